"""The migrations (resizes, cold and live migrations, evacuations) os-migrations
lists, newest first, with the filters and paging Nova offers."""
from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from common.db import engine
from compute import exception
from compute.db import models
from compute.db.instances import isotime

# Statuses of a live migration still under way (os-migrations links them).
LIVE_IN_PROGRESS = ("queued", "preparing", "running", "post-migrating")
FILTERS = ("status", "instance_uuid", "source_compute", "migration_type", "user_id",
           "project_id")


def _as_dict(row: models.Migration, flavor_ids: Mapping[str, int]) -> dict[str, Any]:
    def flavor(value: str | None) -> int | None:
        if value is None:
            return None
        if value in flavor_ids:
            return flavor_ids[value]
        return int(value) if value.isascii() and value.isdigit() else None

    return {"id": row.id, "uuid": row.uuid, "instance_uuid": row.instance_uuid,
            "migration_type": row.migration_type, "status": row.status,
            "source_compute": row.source_compute, "source_node": row.source_node,
            "dest_compute": row.dest_compute, "dest_node": row.dest_node,
            "dest_host": None, "old_instance_type_id": flavor(row.old_flavor_id),
            "new_instance_type_id": flavor(row.new_flavor_id),
            "project_id": row.project_id, "user_id": row.user_id,
            "created_at": isotime(row.created_at), "updated_at": isotime(row.updated_at)}


class MigrationList:
    def __init__(self, db: engine.Database) -> None:
        self.db = db

    def get_all(self, filters: Mapping[str, str], host: str | None = None,
                changes_since: datetime.datetime | None = None,
                changes_before: datetime.datetime | None = None,
                limit: int | None = None, marker: str | None = None) -> list[dict[str, Any]]:
        """Migrations matching ``filters`` (FILTERS names) and ``host`` (source or
        destination), changed in the given window, newest first; ``marker`` is a
        migration uuid. :raises: MarkerNotFound."""
        cols = models.Migration
        query = sa.select(cols).order_by(cols.created_at.desc(), cols.id.desc())
        for name, value in filters.items():
            query = query.where(getattr(cols, name) == value)
        if host is not None:
            query = query.where(sa.or_(cols.source_compute == host, cols.dest_compute == host))
        changed = sa.func.coalesce(cols.updated_at, cols.created_at)
        if changes_since is not None:
            query = query.where(changed >= changes_since)
        if changes_before is not None:
            query = query.where(changed <= changes_before)
        with self.db.reader() as session:
            if marker is not None:
                found = session.scalars(sa.select(cols).where(cols.uuid == marker)).first()
                if found is None:
                    raise exception.MarkerNotFound(marker=marker)
                query = query.where(sa.or_(
                    cols.created_at < found.created_at,
                    sa.and_(cols.created_at == found.created_at, cols.id < found.id)))
            if limit is not None:
                query = query.limit(limit)
            rows = list(session.scalars(query))
            flavor_ids = dict(session.execute(sa.select(models.Flavor.flavorid,
                                                        models.Flavor.id)).tuples().all())
            return [_as_dict(r, flavor_ids) for r in rows]
