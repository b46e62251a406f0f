"""Controllers of the block storage API: each module exposes ``routes(app)``."""
