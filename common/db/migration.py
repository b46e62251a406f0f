"""Runs a service's alembic migrations programmatically (``stratus-manage <svc> db sync``)."""
from __future__ import annotations

import os

from alembic import command
from alembic.config import Config
from alembic.runtime import migration as alembic_migration
import sqlalchemy as sa


def alembic_config(script_location: str, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", script_location)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def sync(script_location: str, url: str, revision: str = "heads") -> None:
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    command.upgrade(alembic_config(script_location, url), revision)


def current(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        return set(alembic_migration.MigrationContext.configure(conn).get_current_heads())
