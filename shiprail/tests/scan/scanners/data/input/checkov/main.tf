# Deliberately flawed sample for the checkov scanner tests: two suppressions, one with a
# reason (it counts) and one without (it does not).
resource "aws_s3_bucket" "site" {
  #checkov:skip=CKV_AWS_18:access logs of the static website bucket are not needed
  bucket = "workorders-site-sample"
}

resource "aws_security_group" "jump" {
  #checkov:skip=CKV_AWS_24
  name        = "jump"
  description = "jump host"

  ingress {
    description = "ssh"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
