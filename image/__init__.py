"""The image service (built by its own issue)."""
