"""workorders: property-maintenance work orders, the reference service shiprail ships."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("workorders")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"
