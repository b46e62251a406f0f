"""The scheduler daemon (``stratus-blockstorage-scheduler``): picks a backend per volume."""
