"""Every service's migrations build exactly the schema its models describe, and a
second sync changes nothing."""
from __future__ import annotations

import importlib
import os
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import autogenerate
from alembic.runtime import migration as alembic_migration

from common.db import migration

# service package, its head revision
SERVICES = [("identity", "0002"), ("compute", "0003")]


@pytest.mark.parametrize(("service", "head"), SERVICES)
def test_walk_all_revisions_and_compare_with_models(tmp_path: Any, service: str,
                                                   head: str) -> None:
    manage = importlib.import_module("%s.cmd.manage" % service)
    models = importlib.import_module("%s.db.models" % service)
    url = "sqlite:///" + os.path.join(str(tmp_path), "walk.sqlite")
    migration.sync(manage.MIGRATIONS, url)
    migration.sync(manage.MIGRATIONS, url)  # idempotent
    engine = sa.create_engine(url)
    try:
        assert migration.current(engine) == {head}
        with engine.connect() as conn:
            context = alembic_migration.MigrationContext.configure(conn)
            diff = autogenerate.compare_metadata(context, models.Base.metadata)
        assert diff == []
    finally:
        engine.dispose()
