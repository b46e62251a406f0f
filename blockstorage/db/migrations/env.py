"""alembic environment of the block storage database."""
from __future__ import annotations

from common.db import alembic_env
from blockstorage.db import models

alembic_env.run_migrations(models.Base.metadata)
