"""Flavors: sizes of servers, their extra specs and, for private flavors, the
projects they are shared with. Visibility follows Nova: admins see every
flavor; others see public flavors and private ones shared with their project.
"""
from __future__ import annotations

import uuid
from typing import Any, cast

import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from common.db import engine
from compute import exception
from compute.db import models

MAX_INT = 2147483647
SQL_SP_FLOAT_MAX = 3.40282e+38
# What sort_key may name (Nova's flavor columns).
SORT_KEYS = ("created_at", "description", "disabled", "ephemeral_gb", "flavorid", "id",
             "is_public", "memory_mb", "name", "root_gb", "rxtx_factor", "swap",
             "updated_at", "vcpu_weight", "vcpus")


def _as_dict(row: models.Flavor) -> dict[str, Any]:
    return {"id": row.id, "flavorid": row.flavorid, "name": row.name,
            "memory_mb": row.memory_mb, "vcpus": row.vcpus, "root_gb": row.root_gb,
            "ephemeral_gb": row.ephemeral_gb, "swap": row.swap,
            "rxtx_factor": row.rxtx_factor, "vcpu_weight": row.vcpu_weight,
            "disabled": row.disabled, "is_public": row.is_public,
            "description": row.description, "created_at": row.created_at,
            "updated_at": row.updated_at,
            "extra_specs": {s.key: s.value for s in row.extra_specs},
            "projects": sorted(p.project_id for p in row.projects)}


# One flavor by flavorid in plain statements (no ORM, no selectin loads): its row,
# then its extra specs and projects in one UNION ALL. Built once.
_TABLE = cast(sa.Table, models.Flavor.__table__)
_BY_FLAVORID = sa.select(_TABLE).where(_TABLE.c.flavorid == sa.bindparam("flavorid"))
_VISIBLE_BY_FLAVORID = _BY_FLAVORID.where(sa.or_(
    _TABLE.c.is_public.is_(True),
    sa.exists().where(models.FlavorProject.flavor_id == _TABLE.c.id,
                      models.FlavorProject.project_id == sa.bindparam("project_id"))))
_EXTRAS: Any = sa.union_all(
    sa.select(sa.literal("spec").label("kind"), models.FlavorExtraSpec.id,
              models.FlavorExtraSpec.key, models.FlavorExtraSpec.value).where(
        models.FlavorExtraSpec.flavor_id == sa.bindparam("flavor_id")),
    sa.select(sa.literal("project").label("kind"), models.FlavorProject.id,
              models.FlavorProject.project_id, sa.literal(None).label("value")).where(
        models.FlavorProject.flavor_id == sa.bindparam("flavor_id")))


def _visible(ctxt: Any) -> Any:
    """The SQL condition for flavors the caller may see (None: all)."""
    if ctxt.is_admin:
        return None
    return sa.or_(models.Flavor.is_public.is_(True),
                  models.Flavor.projects.any(models.FlavorProject.project_id == ctxt.project_id))


def _sort_value(value: Any) -> tuple[bool, Any]:
    return (value is not None, value if value is not None else 0)


class FlavorService:
    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database) -> None:
        self.conf = conf
        self.db = db

    # -- reads
    def get_all(self, ctxt: Any, *, is_public: bool | None = True, min_ram: int | None = None,
             min_disk: int | None = None, sort_key: str = "flavorid", sort_dir: str = "asc",
             limit: int | None = None, marker: str | None = None) -> list[dict[str, Any]]:
        """Flavors in Nova's order and page.

        ``is_public`` True: public flavors and private ones shared with the
        caller's project; False: private flavors only; None: all (admins).
        :raises: MarkerNotFound when ``marker`` names no flavor in the list.
        """
        query = sa.select(models.Flavor)
        if not ctxt.is_admin:
            query = query.where(models.Flavor.disabled.is_(False))
            is_public = True
        if is_public is True:
            query = query.where(sa.or_(
                models.Flavor.is_public.is_(True),
                models.Flavor.projects.any(
                    models.FlavorProject.project_id == ctxt.project_id)))
        elif is_public is False:
            query = query.where(models.Flavor.is_public.is_(False))
        if min_ram is not None:
            query = query.where(models.Flavor.memory_mb >= min_ram)
        if min_disk is not None:
            query = query.where(models.Flavor.root_gb >= min_disk)
        with self.db.reader() as session:
            items = [_as_dict(r) for r in session.scalars(query).all()]
        # Sorted here with the internal id as tie-breaker (a cloud has tens of
        # flavors, not millions); a marker continues after its flavor.
        items.sort(key=lambda f: f["id"])
        items.sort(key=lambda f: _sort_value(f[sort_key]), reverse=sort_dir == "desc")
        start = 0
        if marker is not None:
            for index, item in enumerate(items):
                if item["flavorid"] == marker:
                    start = index + 1
                    break
            else:
                raise exception.MarkerNotFound(marker=marker)
        end = None if limit is None else start + limit
        return items[start:end]

    def _row(self, session: orm.Session, ctxt: Any, flavorid: str) -> models.Flavor:
        query = sa.select(models.Flavor).where(models.Flavor.flavorid == flavorid)
        condition = _visible(ctxt)
        if condition is not None:
            query = query.where(condition)
        row = session.scalars(query).first()
        if row is None:
            raise exception.FlavorNotFound(flavor_id=flavorid)
        return row

    def get(self, ctxt: Any, flavorid: str) -> dict[str, Any]:
        """The flavor as :func:`_as_dict` makes it, if the caller may see it.

        :raises: FlavorNotFound.
        """
        with self.db.reader() as session:
            if ctxt.is_admin:
                row = session.execute(_BY_FLAVORID, {"flavorid": flavorid}).first()
            else:
                row = session.execute(_VISIBLE_BY_FLAVORID, {
                    "flavorid": flavorid, "project_id": ctxt.project_id}).first()
            if row is None:
                raise exception.FlavorNotFound(flavor_id=flavorid)
            data = dict(row._mapping)
            specs: list[tuple[int, str, str | None]] = []
            projects: list[str] = []
            for kind, item_id, key, value in session.execute(_EXTRAS, {"flavor_id": row.id}):
                if kind == "spec":
                    specs.append((int(item_id), key, value))
                else:
                    projects.append(key)
        data["extra_specs"] = {key: value for _, key, value in sorted(specs)}
        data["projects"] = sorted(projects)
        return data

    # -- flavor-manage
    def create(self, ctxt: Any, *, name: str, memory_mb: int, vcpus: int, root_gb: int,
               ephemeral_gb: int = 0, swap: int = 0, rxtx_factor: float = 1.0,
               is_public: bool = True, flavorid: str | None = None,
               description: str | None = None) -> dict[str, Any]:
        """:raises: FlavorIdExists, FlavorExists."""
        flavorid = flavorid or str(uuid.uuid4())
        try:
            with self.db.writer() as session:
                if session.scalar(sa.select(models.Flavor.id).where(
                        models.Flavor.flavorid == flavorid)) is not None:
                    raise exception.FlavorIdExists(flavor_id=flavorid)
                if session.scalar(sa.select(models.Flavor.id).where(
                        models.Flavor.name == name)) is not None:
                    raise exception.FlavorExists(name=name)
                row = models.Flavor(flavorid=flavorid, name=name, memory_mb=memory_mb,
                                    vcpus=vcpus, root_gb=root_gb, ephemeral_gb=ephemeral_gb,
                                    swap=swap, rxtx_factor=rxtx_factor, is_public=is_public,
                                    disabled=False, description=description)
                session.add(row)
                session.flush()
                session.refresh(row)
                return _as_dict(row)
        except sa_exc.IntegrityError:
            # Another request took the id or name between the check and the insert.
            raise exception.FlavorExists(name=name)

    def delete(self, ctxt: Any, flavorid: str) -> None:
        with self.db.writer() as session:
            session.delete(self._row(session, ctxt, flavorid))

    # -- extra specs
    def set_extra_specs(self, ctxt: Any, flavorid: str, specs: dict[str, str]) -> None:
        with self.db.writer() as session:
            row = self._row(session, ctxt, flavorid)
            existing = {s.key: s for s in row.extra_specs}
            for key, value in specs.items():
                if key in existing:
                    existing[key].value = value
                else:
                    row.extra_specs.append(models.FlavorExtraSpec(key=key, value=value))

    def delete_extra_spec(self, ctxt: Any, flavorid: str, key: str) -> None:
        with self.db.writer() as session:
            row = self._row(session, ctxt, flavorid)
            found = [s for s in row.extra_specs if s.key == key]
            if not found:
                raise exception.FlavorExtraSpecsNotFound(flavor_id=flavorid,
                                                         extra_specs_key=key)
            row.extra_specs.remove(found[0])

    # -- access to private flavors
    def access_list(self, ctxt: Any, flavorid: str) -> list[str]:
        flavor = self.get(ctxt, flavorid)
        if flavor["is_public"]:
            raise exception.FlavorAccessListForPublic()
        return list(flavor["projects"])

    def add_access(self, ctxt: Any, flavorid: str, project_id: str) -> list[str]:
        with self.db.writer() as session:
            row = self._row(session, ctxt, flavorid)
            if row.is_public:
                raise exception.FlavorAccessPublic()
            if any(p.project_id == project_id for p in row.projects):
                raise exception.FlavorAccessExists(flavor_id=flavorid, project_id=project_id)
            row.projects.append(models.FlavorProject(project_id=project_id))
            session.flush()
            return sorted(p.project_id for p in row.projects)

    def remove_access(self, ctxt: Any, flavorid: str, project_id: str) -> list[str]:
        with self.db.writer() as session:
            row = self._row(session, ctxt, flavorid)
            found = [p for p in row.projects if p.project_id == project_id]
            if not found:
                raise exception.FlavorAccessNotFound(flavor_id=flavorid, project_id=project_id)
            row.projects.remove(found[0])
            session.flush()
            return sorted(p.project_id for p in row.projects)
