"""Deliberately insecure sample: a hard-coded cloud key (fake, for scanner tests)."""

AWS_ACCESS_KEY_ID = "AKIAQZ7FAKEKEY4TESTX"
AWS_SECRET_ACCESS_KEY = "wJalrXUtnFAKE7MDENGbPxRfiCYFAKEKEY4TESTq"
