"""The body of every service's alembic ``env.py``: online migrations on the URL
that ``common.db.migration`` puts in the alembic config."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import context


def run_migrations(target_metadata: sa.MetaData) -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None, "sqlalchemy.url is set by common.db.migration"
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            # SQLite cannot ALTER most things: alembic rebuilds tables in batches.
            context.configure(connection=connection, target_metadata=target_metadata,
                              render_as_batch=connection.dialect.name == "sqlite")
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()
