"""alembic environment of the network database."""
from __future__ import annotations

from common.db import alembic_env
from network.db import models

alembic_env.run_migrations(models.Base.metadata)
