"""Generic Paste filters, one per module."""
