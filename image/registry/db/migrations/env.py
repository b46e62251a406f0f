"""alembic environment of the image database."""
from __future__ import annotations

from common.db import alembic_env
from image.registry.db import models

alembic_env.run_migrations(models.Base.metadata)
