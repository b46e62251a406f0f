"""The block storage REST API (Cinder v3 on the wire)."""
