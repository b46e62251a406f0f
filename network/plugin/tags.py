"""Tags of any resource (the standard-attr-tag extension)."""
from __future__ import annotations

import sqlalchemy as sa

from network.db import models
from network.plugin import base


class Tags(base.Component):

    def replace(self, resource_id: str, tags: list[str]) -> list[str]:
        with self.db.writer() as s:
            s.execute(sa.delete(models.Tag).where(models.Tag.resource_id == resource_id))
            for tag in dict.fromkeys(tags):
                s.add(models.Tag(resource_id=resource_id, tag=tag))
        return sorted(set(tags))

    def add(self, resource_id: str, tag: str) -> None:
        with self.db.writer() as s:
            if s.get(models.Tag, (resource_id, tag)) is None:
                s.add(models.Tag(resource_id=resource_id, tag=tag))

    def remove(self, resource_id: str, tag: str) -> bool:
        with self.db.writer() as s:
            row = s.get(models.Tag, (resource_id, tag))
            if row is None:
                return False
            s.delete(row)
            return True

    def clear(self, resource_id: str) -> None:
        with self.db.writer() as s:
            s.execute(sa.delete(models.Tag).where(models.Tag.resource_id == resource_id))
