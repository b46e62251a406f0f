"""alembic environment of the identity database."""
from __future__ import annotations

from common.db import alembic_env
from identity.db import models

alembic_env.run_migrations(models.Base.metadata)
