"""The image service (Glance v2 on the wire): image-api and image-registry."""
