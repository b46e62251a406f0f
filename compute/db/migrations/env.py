"""alembic environment of the compute database."""
from __future__ import annotations

from common.db import alembic_env
from compute.db import models

alembic_env.run_migrations(models.Base.metadata)
