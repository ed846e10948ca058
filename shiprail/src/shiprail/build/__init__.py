"""Hermetic builds: a base image from Debian packages when no registry answers, and the
service image built from a host-side wheelhouse with no network inside the build."""
