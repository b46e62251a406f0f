"""The backup daemon (``stratus-blockstorage-backup``): volume data to and from the
object store, driven over RPC (topic ``blockstorage-backup``)."""
