"""SQLAlchemy 2 glue: engines, sessions, base models, alembic runner."""
