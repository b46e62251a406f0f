"""The block storage database: models, migrations and the stores."""
