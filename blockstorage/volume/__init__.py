"""The volume daemon (``stratus-blockstorage-volume``): manager, recovery, drivers."""
