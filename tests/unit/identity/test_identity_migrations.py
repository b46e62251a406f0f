"""The identity migrations build exactly the schema the models describe."""
from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa
from alembic import autogenerate
from alembic.runtime import migration as alembic_migration

from common.db import migration
from identity.cmd import manage
from identity.db import models


def test_walk_all_revisions_and_compare_with_models(tmp_path: Any) -> None:
    url = "sqlite:///" + os.path.join(str(tmp_path), "walk.sqlite")
    migration.sync(manage.MIGRATIONS, url)
    engine = sa.create_engine(url)
    try:
        assert migration.current(engine) == {"0002"}
        with engine.connect() as conn:
            context = alembic_migration.MigrationContext.configure(conn)
            diff = autogenerate.compare_metadata(context, models.Base.metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_sync_is_idempotent(tmp_path: Any) -> None:
    url = "sqlite:///" + os.path.join(str(tmp_path), "again.sqlite")
    migration.sync(manage.MIGRATIONS, url)
    migration.sync(manage.MIGRATIONS, url)
    engine = sa.create_engine(url)
    try:
        assert migration.current(engine) == {"0002"}
    finally:
        engine.dispose()
