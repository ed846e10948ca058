"""Everything about the service image. Builds are hermetic: a base image from Debian packages
when no registry answers (``base.py``), and the service image built from a host-side wheelhouse
with no network inside the build (``build.py``). Its gate: the SBOM (``sbom.py``), Trivy
(``trivy.py``) and the OSV audit judged like ``shiprail scan`` (``scan.py``), and the rescan
of what is deployed (``rescan.py``)."""
