"""Judging a release by its traffic after the switch (``interface.py`` + one module per source)."""
