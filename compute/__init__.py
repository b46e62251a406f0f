"""The compute service (built by its own issue)."""
