"""Everything about the service image. Builds are hermetic: a base image from Debian packages
when no registry answers (``base.py``), and the service image built from a host-side wheelhouse
with no network inside the build (``build.py``)."""
