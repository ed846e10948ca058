"""The edge proxy the engine switches (``interface.py`` + one module per proxy)."""
