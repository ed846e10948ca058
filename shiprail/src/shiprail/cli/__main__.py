"""`python -m shiprail.cli`: the same as the `shiprail` command."""

from shiprail.cli import main

main()
