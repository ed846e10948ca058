"""Security gates: run the scanners, normalise to SARIF, decide."""
