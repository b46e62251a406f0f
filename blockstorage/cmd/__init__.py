"""Console scripts of the block storage service."""
