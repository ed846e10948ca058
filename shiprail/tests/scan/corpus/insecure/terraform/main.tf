# Deliberately insecure sample: a public bucket and SSH open to the world.
resource "aws_s3_bucket" "uploads" {
  bucket = "workorders-uploads-sample"
}

resource "aws_s3_bucket_acl" "uploads" {
  bucket = aws_s3_bucket.uploads.id
  acl    = "public-read"
}

resource "aws_security_group" "bastion" {
  name        = "bastion"
  description = "bastion host"

  ingress {
    description = "ssh"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
