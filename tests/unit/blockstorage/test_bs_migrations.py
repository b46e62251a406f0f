"""The block storage migrations build exactly the schema of blockstorage/db/models.py
(with the ``__DEFAULT__`` type), a second sync changes nothing, downgrade empties
the database, and ``stratus-manage blockstorage db sync|version`` drive them."""
from __future__ import annotations

import os
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import autogenerate, command
from alembic.runtime import migration as alembic_migration

from common.db import migration
from blockstorage.cmd import manage
from blockstorage.db import models

HEAD = "0001"


def _url(tmp_path: Any) -> str:
    return "sqlite:///" + os.path.join(str(tmp_path), "blockstorage.sqlite")


def test_upgrade_from_scratch_matches_models(tmp_path: Any) -> None:
    url = _url(tmp_path)
    migration.sync(manage.MIGRATIONS, url)
    migration.sync(manage.MIGRATIONS, url)  # idempotent
    engine = sa.create_engine(url)
    try:
        assert migration.current(engine) == {HEAD}
        with engine.connect() as conn:
            context = alembic_migration.MigrationContext.configure(conn)
            diff = autogenerate.compare_metadata(context, models.Base.metadata)
        assert diff == []
        tables = set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
        assert tables == set(models.Base.metadata.tables)
    finally:
        engine.dispose()


def test_every_readme_table_exists() -> None:
    readme = {"volumes", "volume_metadata", "volume_admin_metadata",
              "volume_glance_metadata", "snapshots", "snapshot_metadata", "volume_types",
              "volume_type_extra_specs", "volume_type_projects", "volume_attachments",
              "backups", "quotas", "quota_classes", "services"}
    assert readme <= set(models.Base.metadata.tables)


def test_default_volume_type_row(tmp_path: Any) -> None:
    url = _url(tmp_path)
    migration.sync(manage.MIGRATIONS, url)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT id, name, description, is_public, created_at FROM volume_types"
            )).all()
    finally:
        engine.dispose()
    assert len(rows) == 1
    type_id, name, description, is_public, created_at = rows[0]
    assert (type_id, name, description, bool(is_public)) == (
        models.DEFAULT_TYPE_ID, models.DEFAULT_TYPE_NAME, models.DEFAULT_TYPE_DESCRIPTION,
        True)
    assert created_at is not None


def test_downgrade_to_base_drops_everything(tmp_path: Any) -> None:
    url = _url(tmp_path)
    migration.sync(manage.MIGRATIONS, url)
    command.downgrade(migration.alembic_config(manage.MIGRATIONS, url), "base")
    engine = sa.create_engine(url)
    try:
        assert set(sa.inspect(engine).get_table_names()) == {"alembic_version"}
    finally:
        engine.dispose()


def _write_conf(tmp_path: Any) -> str:
    path = os.path.join(str(tmp_path), "blockstorage.conf")
    with open(path, "w") as f:
        f.write("[DEFAULT]\nstate_path = %s\n" % tmp_path)
    return path


def test_manage_db_sync_and_version(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    conf_file = _write_conf(tmp_path)
    assert manage.register("stratus-manage", ["--config-file", conf_file, "db", "sync"]) == 0
    assert os.path.exists(os.path.join(str(tmp_path), "blockstorage.sqlite"))
    assert "blockstorage database is at the latest revision" in capsys.readouterr().out
    assert manage.register("stratus-manage",
                           ["--config-file", conf_file, "db", "version"]) == 0
    assert capsys.readouterr().out.strip() == HEAD


def test_foreign_keys_protect_and_cascade(tmp_path: Any) -> None:
    """Metadata goes with its volume; a volume with snapshots cannot go first."""
    from common.db import engine as db_engine

    url = _url(tmp_path)
    migration.sync(manage.MIGRATIONS, url)
    db = db_engine.Database(db_engine.create_engine(url))
    try:
        with db.writer() as s:
            s.add(models.Volume(id="v1", project_id="p", user_id="u", size=1,
                                status="available", volume_type_id=models.DEFAULT_TYPE_ID))
            s.flush()
            s.add(models.VolumeMetadata(volume_id="v1", key="k", value="v"))
            s.add(models.Snapshot(id="s1", project_id="p", user_id="u", volume_id="v1",
                                  size=1, status="available"))
        with pytest.raises(sa.exc.IntegrityError):
            with db.writer() as s:
                s.execute(sa.delete(models.Volume).where(models.Volume.id == "v1"))
        with db.writer() as s:
            s.execute(sa.delete(models.Snapshot))
            s.execute(sa.delete(models.Volume).where(models.Volume.id == "v1"))
        with db.reader() as s:
            assert s.scalar(sa.select(sa.func.count()).select_from(models.VolumeMetadata)) == 0
    finally:
        db.dispose()
