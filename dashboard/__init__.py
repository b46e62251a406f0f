"""The dashboard service (built by its own issue)."""
