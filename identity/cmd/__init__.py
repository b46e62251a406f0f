"""Console entry points of the identity service."""
