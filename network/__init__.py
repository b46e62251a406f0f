"""The network service (built by its own issue)."""
