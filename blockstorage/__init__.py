"""The blockstorage service (built by its own issue)."""
