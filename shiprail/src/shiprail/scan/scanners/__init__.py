"""One module per scanner, each implementing :class:`shiprail.scan.scanners.interface.Scanner`."""
