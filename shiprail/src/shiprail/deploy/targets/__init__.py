"""Where release containers run (``interface.py`` + one module per target)."""
