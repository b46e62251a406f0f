"""alembic environment of the network database."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from network.db import models

config = context.config
target_metadata = models.Base.metadata


def run() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None, "sqlalchemy.url is set by common.db.migration"
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
