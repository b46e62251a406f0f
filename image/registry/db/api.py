"""Query functions of the image database. The first parameter is the context."""
from __future__ import annotations

import datetime
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.db import engine
from common.db import models as base_models
from image import exception
from image.registry.db import models as M

CORE = ("name", "status", "visibility", "protected", "os_hidden", "owner", "size",
        "virtual_size", "checksum", "os_hash_algo", "os_hash_value", "disk_format",
        "container_format", "min_disk", "min_ram", "location")
SORT_KEYS = ("name", "status", "container_format", "disk_format", "size", "id",
             "created_at", "updated_at", "visibility", "owner", "min_disk", "min_ram",
             "virtual_size")
_OPS = {"eq": "__eq__", "neq": "__ne__", "gt": "__gt__", "gte": "__ge__", "lt": "__lt__",
        "lte": "__le__"}


def _iso(value: datetime.datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def to_dict(image: M.Image) -> dict[str, Any]:
    """The primitive form every RPC answer carries."""
    out: dict[str, Any] = {key: getattr(image, key) for key in CORE}
    out.update(id=image.id, created_at=_iso(image.created_at),
               updated_at=_iso(image.updated_at),
               properties={p.name: p.value for p in image.properties},
               tags=sorted(t.value for t in image.tags))
    return out


def member_dict(member: M.ImageMember) -> dict[str, Any]:
    return {"image_id": member.image_id, "member_id": member.member, "status": member.status,
            "created_at": _iso(member.created_at), "updated_at": _iso(member.updated_at)}


# Nullable sort columns sort as if NULL were the smallest value, the same on
# every database (they disagree on where NULLs go), so keyset paging is exact.
_NULL_AS = {"name": "", "container_format": "", "disk_format": "", "owner": "",
            "size": -1, "virtual_size": -1}


def _sortable(key: str) -> Any:
    column = getattr(M.Image, key)
    return sa.func.coalesce(column, _NULL_AS[key]) if key in _NULL_AS else column


def _sortable_value(image: M.Image, key: str) -> Any:
    value = getattr(image, key)
    return _NULL_AS[key] if value is None and key in _NULL_AS else value


class ImageDB:
    def __init__(self, db: engine.Database) -> None:
        self.db = db

    # -- images
    def create(self, ctxt: Any, values: dict[str, Any]) -> dict[str, Any]:
        values = dict(values)
        props = values.pop("properties", {}) or {}
        tags = values.pop("tags", []) or []
        image_id = values.pop("id", None) or str(uuid.uuid4())
        with self.db.writer() as session:
            if session.get(M.Image, image_id) is not None:
                raise exception.DuplicateImage(image_id=image_id)
            image = M.Image(id=image_id, **{k: v for k, v in values.items() if k in CORE})
            image.properties = [M.ImageProperty(name=k, value=str(v)) for k, v in props.items()]
            image.tags = [M.ImageTag(value=t) for t in dict.fromkeys(tags)]
            session.add(image)
            session.flush()
            return to_dict(image)

    def get(self, ctxt: Any, image_id: str) -> dict[str, Any]:
        with self.db.reader() as session:
            return to_dict(self._get(session, image_id))

    @staticmethod
    def _get(session: orm.Session, image_id: str) -> M.Image:
        image = session.get(M.Image, image_id) if image_id else None
        if image is None:
            raise exception.ImageNotFound(image_id=image_id)
        return image

    def update(self, ctxt: Any, image_id: str, values: dict[str, Any],
               from_status: list[str] | None = None) -> dict[str, Any]:
        """Update core fields, ``properties`` (None values delete) and ``tags``.

        :param from_status: when given, the update happens only if the image's
            status is one of these (a compare-and-set for status transitions).
        :raises: ImageNotFound, InvalidImageStatusTransition.
        """
        values = dict(values)
        props = values.pop("properties", None)
        tags = values.pop("tags", None)
        with self.db.writer() as session:
            image = self._get(session, image_id)
            if from_status is not None and image.status not in from_status:
                raise exception.InvalidImageStatusTransition(
                    current=image.status, new=values.get("status", image.status))
            for key, value in values.items():
                if key in CORE:
                    setattr(image, key, value)
            if props is not None:
                current = {p.name: p for p in image.properties}
                for name, value in props.items():
                    if value is None:
                        if name in current:
                            image.properties.remove(current.pop(name))
                    elif name in current:
                        current[name].value = str(value)
                    else:
                        image.properties.append(M.ImageProperty(name=name, value=str(value)))
            if tags is not None:
                image.tags = [M.ImageTag(value=t) for t in dict.fromkeys(tags)]
            image.updated_at = base_models.utcnow()
            session.flush()
            return to_dict(image)

    def delete(self, ctxt: Any, image_id: str) -> dict[str, Any]:
        with self.db.writer() as session:
            image = self._get(session, image_id)
            found = to_dict(image)
            session.delete(image)
            return found

    def add_tag(self, ctxt: Any, image_id: str, tag: str) -> None:
        with self.db.writer() as session:
            image = self._get(session, image_id)
            if session.get(M.ImageTag, (image_id, tag)) is None:
                image.tags.append(M.ImageTag(value=tag))
                image.updated_at = base_models.utcnow()

    def delete_tag(self, ctxt: Any, image_id: str, tag: str) -> None:
        with self.db.writer() as session:
            image = self._get(session, image_id)
            found = session.get(M.ImageTag, (image_id, tag))
            if found is None:
                raise exception.ImageNotFound("Tag %s not found on image %s." % (tag, image_id))
            image.tags.remove(found)
            image.updated_at = base_models.utcnow()

    def usage(self, ctxt: Any, owner: str) -> dict[str, int]:
        """Images and bytes ``owner`` holds (quota accounting)."""
        with self.db.reader() as session:
            count, size = session.execute(sa.select(
                sa.func.count(M.Image.id), sa.func.coalesce(sa.func.sum(M.Image.size), 0)
            ).where(M.Image.owner == owner)).one()
            return {"count": int(count), "size": int(size or 0)}

    def reset_stalled(self, ctxt: Any, older_than: int) -> list[str]:
        """Put uploads whose API stopped touching them back where a client can retry.

        An image in ``saving`` (its upload died) goes back to ``queued``; one in
        ``importing`` goes back to ``uploading`` (its staged data is still there).

        :returns: the ids reset.
        """
        cutoff = base_models.utcnow() - datetime.timedelta(seconds=older_than)
        reset = []
        with self.db.writer() as session:
            stalled = session.scalars(sa.select(M.Image).where(
                M.Image.status.in_(("saving", "importing")), M.Image.updated_at < cutoff))
            for image in stalled:
                image.status = "queued" if image.status == "saving" else "uploading"
                image.updated_at = base_models.utcnow()
                reset.append(image.id)
        return reset

    # -- listing
    def list_images(self, ctxt: Any, filters: dict[str, Any], marker: str | None, limit: int,
             sort: list[tuple[str, str]], viewer: dict[str, Any]) -> list[dict[str, Any]]:
        """Images ``viewer`` may see that match ``filters``, one page.

        :param viewer: ``{"project_id", "is_admin"}`` of the caller.
        :raises: InvalidMarker, InvalidFilter.
        """
        with self.db.reader() as session:
            query = sa.select(M.Image)
            query = self._visible(query, filters, viewer)
            query = self._filtered(query, filters)
            order = [(key, direction) for key, direction in sort]
            if "id" not in [k for k, _d in order]:
                order.append(("id", order[-1][1] if order else "desc"))
            if marker is not None:
                query = self._after(session, query, marker, order)
            for key, direction in order:
                column = _sortable(key)
                query = query.order_by(column.desc() if direction == "desc" else column.asc())
            images = session.scalars(query.limit(limit)).all()
            return [to_dict(i) for i in images]

    @staticmethod
    def _visible(query: Any, filters: dict[str, Any], viewer: dict[str, Any]) -> Any:
        project = viewer.get("project_id")
        visibility = filters.get("visibility")
        member_status = filters.get("member_status", "accepted")
        members = sa.select(M.ImageMember.image_id).where(M.ImageMember.member == project)
        if member_status != "all":
            members = members.where(M.ImageMember.status == member_status)
        if visibility in ("public", "community"):
            return query.where(M.Image.visibility == visibility)
        if visibility == "private":
            query = query.where(M.Image.visibility == "private")
            return query if viewer.get("is_admin") else query.where(M.Image.owner == project)
        if visibility == "shared":
            query = query.where(M.Image.visibility == "shared")
            if viewer.get("is_admin") and "member_status" not in filters:
                return query
            return query.where(sa.or_(M.Image.owner == project, M.Image.id.in_(members))
                               if "member_status" not in filters
                               else M.Image.id.in_(members))
        if visibility not in (None, "all"):
            raise exception.InvalidFilter(name="visibility", detail="unknown value")
        if viewer.get("is_admin"):
            return query
        return query.where(sa.or_(
            M.Image.visibility == "public", M.Image.owner == project,
            sa.and_(M.Image.visibility == "shared", M.Image.id.in_(members))))

    @staticmethod
    def _filtered(query: Any, filters: dict[str, Any]) -> Any:
        for name, value in filters.items():
            if name in ("visibility", "member_status"):
                continue
            if name == "tags":
                for tag in value:
                    query = query.where(M.Image.id.in_(sa.select(M.ImageTag.image_id).where(
                        M.ImageTag.value == tag)))
            elif name == "size_min":
                query = query.where(M.Image.size >= int(value))
            elif name == "size_max":
                query = query.where(M.Image.size <= int(value))
            elif name in ("created_at", "updated_at"):
                op, moment = value
                query = query.where(getattr(getattr(M.Image, name), _OPS[op])(
                    datetime.datetime.fromisoformat(moment)))
            elif name == "properties":
                for key, expected in value.items():
                    query = query.where(M.Image.id.in_(sa.select(
                        M.ImageProperty.image_id).where(M.ImageProperty.name == key,
                                                        M.ImageProperty.value == expected)))
            elif name == "id" or name in CORE:
                column = getattr(M.Image, name)
                query = query.where(column.in_(value) if isinstance(value, list)
                                    else column == value)
            else:
                raise exception.InvalidFilter(name=name, detail="not a filter")
        return query

    @staticmethod
    def _after(session: orm.Session, query: Any, marker: str,
               order: list[tuple[str, str]]) -> Any:
        found = session.get(M.Image, marker)
        if found is None:
            raise exception.InvalidMarker(marker=marker)
        # Keyset pagination: rows strictly after the marker in the sort order.
        clauses = []
        for index, (key, direction) in enumerate(order):
            column, value = _sortable(key), _sortable_value(found, key)
            equal = [_sortable(k) == _sortable_value(found, k) for k, _d in order[:index]]
            clauses.append(sa.and_(*equal, column > value if direction == "asc"
                                   else column < value))
        return query.where(sa.or_(*clauses))

    # -- members
    def add_member(self, ctxt: Any, image_id: str, member: str) -> dict[str, Any]:
        with self.db.writer() as session:
            self._get(session, image_id)
            if session.get(M.ImageMember, (image_id, member)) is not None:
                raise exception.DuplicateMember(member=member, image_id=image_id)
            found = M.ImageMember(image_id=image_id, member=member, status="pending")
            session.add(found)
            session.flush()
            return member_dict(found)

    def get_member(self, ctxt: Any, image_id: str, member: str) -> dict[str, Any]:
        with self.db.reader() as session:
            found = session.get(M.ImageMember, (image_id, member))
            if found is None:
                raise exception.MemberNotFound(member=member, image_id=image_id)
            return member_dict(found)

    def list_members(self, ctxt: Any, image_id: str) -> list[dict[str, Any]]:
        with self.db.reader() as session:
            rows = session.scalars(sa.select(M.ImageMember).where(
                M.ImageMember.image_id == image_id).order_by(M.ImageMember.created_at))
            return [member_dict(m) for m in rows]

    def update_member(self, ctxt: Any, image_id: str, member: str,
                      status: str) -> dict[str, Any]:
        with self.db.writer() as session:
            found = session.get(M.ImageMember, (image_id, member))
            if found is None:
                raise exception.MemberNotFound(member=member, image_id=image_id)
            found.status = status
            found.updated_at = base_models.utcnow()
            session.flush()
            return member_dict(found)

    def delete_member(self, ctxt: Any, image_id: str, member: str) -> None:
        with self.db.writer() as session:
            found = session.get(M.ImageMember, (image_id, member))
            if found is None:
                raise exception.MemberNotFound(member=member, image_id=image_id)
            session.delete(found)
