"""The objectstore service (built by its own issue)."""
