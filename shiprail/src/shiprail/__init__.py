"""shiprail: take a Python web service from commit to production, securely, in one engine."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("shiprail")
except PackageNotFoundError:  # pragma: no cover - source tree without install
    __version__ = "0.0.0"
