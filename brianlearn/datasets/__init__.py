"""Data sets that work offline."""
