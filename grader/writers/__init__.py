"""Gradebook writers: one module per format, each a `write(path, report)` that writes atomically."""
