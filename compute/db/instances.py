"""Instances in the compute database: rows in, plain dicts out.

Every compute process that owns the database (API, conductor, scheduler,
metadata) reads and writes servers through :class:`InstanceStore`; compute
nodes reach the same methods over the conductor's RPC endpoint. Results are
JSON-ready dicts (times as ISO 8601 strings) so they cross RPC unchanged.

State changes are compare-and-set: :meth:`InstanceStore.update` takes the
task (and vm) states the caller expects and fails with a 409 when another
request moved the instance first, so two actions never run at once.
"""
from __future__ import annotations

import datetime
import uuid as uuid_mod
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import orm

from common.db import engine
from common.db import models as base_models
from compute import exception
from compute.db import instance_actions
from compute.db import models

# Sentinel: "do not check the task state" (None is a real expected value).
ANY = object()
TIME_FORMAT = instance_actions.TIME_FORMAT
isotime = instance_actions.isotime
_TIME_COLUMNS = ("created_at", "updated_at", "launched_at", "terminated_at", "deleted_at")
# Columns a caller may not set through update().
_READ_ONLY = frozenset(("id", "uuid", "created_at", "deleted"))
_COLUMNS = frozenset(c.name for c in models.Instance.__table__.columns)


def parse_isotime(value: str | datetime.datetime | None) -> datetime.datetime | None:
    if value is None or isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.strptime(value, TIME_FORMAT)


def to_dict(row: models.Instance) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in _COLUMNS:
        value = getattr(row, name)
        data[name] = isotime(value) if name in _TIME_COLUMNS else value
    data["metadata"] = {m.key: m.value for m in row.metadata_items}
    data["tags"] = sorted(t.tag for t in row.tags)
    return data


# Reads and compare-and-set updates go through Core (no ORM identity map, no
# selectin loads): an instance costs one SELECT of its row plus one UNION ALL of
# its metadata and tags.
_TABLE = cast(sa.Table, models.Instance.__table__)


def _plain(row: Any) -> dict[str, Any]:
    """The dict of a Core row of the instances table (metadata and tags not yet)."""
    data = dict(row._mapping)
    for name in _TIME_COLUMNS:
        data[name] = isotime(data[name])
    return data


# Statements built once (building one costs more than running it on SQLite).
_LIVE = sa.select(_TABLE).where(_TABLE.c.uuid == sa.bindparam("uuid"), _TABLE.c.deleted == 0)
_ANY_ROW = sa.select(_TABLE).where(_TABLE.c.uuid == sa.bindparam("uuid"))
_INSERT = sa.insert(_TABLE)
_INSERT_METADATA = sa.insert(models.InstanceMetadata)
_EXTRAS: Any = sa.union_all(
    sa.select(models.InstanceMetadata.instance_uuid, models.InstanceMetadata.id,
              models.InstanceMetadata.key, models.InstanceMetadata.value).where(
        models.InstanceMetadata.instance_uuid.in_(sa.bindparam("uuids", expanding=True))),
    sa.select(models.Tag.instance_uuid, sa.literal(None).label("id"), models.Tag.tag,
              sa.literal(None).label("value")).where(
        models.Tag.instance_uuid.in_(sa.bindparam("uuids", expanding=True))))
# Compare-and-set updates: one statement per kind of state check, the columns
# set coming from the parameters of each execution ("w_" parameters: the WHERE).
_UPDATE = sa.update(_TABLE).where(_TABLE.c.uuid == sa.bindparam("w_uuid"),
                                  _TABLE.c.deleted == 0)
_UPDATES: dict[tuple[bool | None, bool | None], Any] = {}


def _in_states(column: Any, name: str, with_null: bool) -> Any:
    """SQL for "``column`` is one of the list bound to ``name``" (or NULL)."""
    cond = column.in_(sa.bindparam(name, expanding=True))
    return sa.or_(cond, column.is_(None)) if with_null else cond


def _update_statement(task_null: bool | None, vm_null: bool | None) -> Any:
    """The UPDATE checking the task state (``task_null`` None: not checked; else
    whether NULL is allowed) and the vm state likewise."""
    key = (task_null, vm_null)
    found = _UPDATES.get(key)
    if found is None:
        found = _UPDATE
        if task_null is not None:
            found = found.where(_in_states(_TABLE.c.task_state, "w_task", task_null))
        if vm_null is not None:
            found = found.where(_in_states(_TABLE.c.vm_state, "w_vm", vm_null))
        _UPDATES[key] = found
    return found


def _with_extras(session: orm.Session | sa.Connection,
                 found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``metadata`` and ``tags`` to instance dicts, in one statement."""
    if not found:
        return found
    by_uuid = {}
    for data in found:
        data["metadata"], data["tags"] = {}, []
        by_uuid[data["uuid"]] = data
    metadata: list[tuple[int, str, str, str]] = []
    for instance_uuid, item_id, key, value in session.execute(
            _EXTRAS, {"uuids": list(by_uuid)}):
        if item_id is None:
            by_uuid[instance_uuid]["tags"].append(key)
        else:
            metadata.append((int(item_id), instance_uuid, key, value))
    for _, instance_uuid, key, value in sorted(metadata):
        by_uuid[instance_uuid]["metadata"][key] = value
    for data in found:
        data["tags"].sort()
    return found


def _fault_dict(row: models.InstanceFault) -> dict[str, Any]:
    return {"instance_uuid": row.instance_uuid, "code": row.code, "message": row.message,
            "details": row.details, "host": row.host, "created_at": isotime(row.created_at)}


def _filtered(query: Any, *, project_id: str | None, host: str | None, node: str | None,
              uuids: Sequence[str] | None, vm_states: Sequence[str] | None,
              task_states: Sequence[str | None] | None, read_deleted: bool | None,
              changes_since: datetime.datetime | None,
              changes_before: datetime.datetime | None,
              equal: Mapping[str, Any] | None) -> Any:
    cols = models.Instance
    if read_deleted is False:
        query = query.where(cols.deleted == 0)
    elif read_deleted is True:
        query = query.where(cols.deleted != 0)
    for name, value in (("project_id", project_id), ("host", host), ("node", node)):
        if value is not None:
            query = query.where(getattr(cols, name) == value)
    if uuids is not None:
        query = query.where(cols.uuid.in_(list(uuids)))
    if vm_states is not None:
        query = query.where(cols.vm_state.in_(list(vm_states)))
    if task_states is not None:
        wanted = [s for s in task_states if s is not None]
        cond: Any = cols.task_state.in_(wanted)
        if None in task_states:
            cond = sa.or_(cond, cols.task_state.is_(None))
        query = query.where(cond)
    if changes_since is not None:
        query = query.where(sa.func.coalesce(cols.updated_at, cols.created_at)
                            >= changes_since)
    if changes_before is not None:
        query = query.where(sa.func.coalesce(cols.updated_at, cols.created_at)
                            <= changes_before)
    for name, value in (equal or {}).items():
        column = getattr(cols, name)
        if isinstance(value, (list, tuple, set, frozenset)):
            query = query.where(column.in_(list(value)))
        else:
            query = query.where(column == value)
    return query


def _tagged(query: Any, tags: Sequence[str], tags_any: Sequence[str],
            not_tags: Sequence[str], not_tags_any: Sequence[str]) -> Any:
    cols = models.Instance
    for tag in tags:
        query = query.where(cols.tags.any(models.Tag.tag == tag))
    if tags_any:
        query = query.where(cols.tags.any(models.Tag.tag.in_(list(tags_any))))
    if not_tags:
        query = query.where(sa.not_(sa.and_(*[cols.tags.any(models.Tag.tag == t)
                                              for t in not_tags])))
    if not_tags_any:
        query = query.where(~cols.tags.any(models.Tag.tag.in_(list(not_tags_any))))
    return query


class InstanceStore:
    """Instances, their metadata, tags, faults and actions in one database."""

    def __init__(self, db: engine.Database) -> None:
        self.db = db

    # -- reads
    @staticmethod
    def _row(session: orm.Session, instance_uuid: str,
             read_deleted: bool = False) -> models.Instance:
        query = sa.select(models.Instance).where(models.Instance.uuid == instance_uuid)
        if not read_deleted:
            query = query.where(models.Instance.deleted == 0)
        row = session.scalars(query).first()
        if row is None:
            raise exception.InstanceNotFound(instance_id=instance_uuid)
        return row

    @staticmethod
    def _read(session: orm.Session | sa.Connection, instance_uuid: str,
              read_deleted: bool = False) -> dict[str, Any]:
        row = session.execute(_ANY_ROW if read_deleted else _LIVE,
                              {"uuid": instance_uuid}).first()
        if row is None:
            raise exception.InstanceNotFound(instance_id=instance_uuid)
        return _with_extras(session, [_plain(row)])[0]

    def get(self, instance_uuid: str, read_deleted: bool = False) -> dict[str, Any]:
        """:raises: InstanceNotFound."""
        with self.db.reader() as session:
            return self._read(session, instance_uuid, read_deleted)

    def get_all(self, *, project_id: str | None = None, host: str | None = None,
             node: str | None = None, uuids: Sequence[str] | None = None,
             vm_states: Sequence[str] | None = None,
             task_states: Sequence[str | None] | None = None,
             read_deleted: bool | None = False,
             changes_since: datetime.datetime | None = None,
             changes_before: datetime.datetime | None = None,
             equal: Mapping[str, Any] | None = None,
             tags: Sequence[str] = (), tags_any: Sequence[str] = (),
             not_tags: Sequence[str] = (), not_tags_any: Sequence[str] = (),
             sort: Sequence[tuple[str, str]] = (("created_at", "desc"),),
             limit: int | None = None, marker: str | None = None,
             without: Collection[str] = ()) -> list[dict[str, Any]]:
        """Instances matching every given filter, sorted, from after ``marker``.

        ``read_deleted``: False live rows only, True deleted rows only, None both.
        ``equal`` maps column names to a value (or a list of values).
        ``without``: columns not read (left out of the dicts), e.g. the large
        ``request_spec`` a server list does not show.
        :raises: MarkerNotFound when ``marker`` names no instance.
        """
        columns = ([c for c in _TABLE.c if c.name not in without] if without
                   else list(_TABLE.c))
        query = _filtered(sa.select(*columns), project_id=project_id, host=host,
                          node=node, uuids=uuids, vm_states=vm_states,
                          task_states=task_states, read_deleted=read_deleted,
                          changes_since=changes_since, changes_before=changes_before,
                          equal=equal)
        query = _tagged(query, tags, tags_any, not_tags, not_tags_any)
        cols = models.Instance
        order = []
        for key, direction in list(sort) + [("id", "desc")]:
            column = getattr(cols, key)
            order.append(column.desc() if direction == "desc" else column.asc())
        query = query.order_by(*order)
        with self.db.reader() as session:
            rows = list(session.execute(query))
            if marker is not None:
                position = next((i for i, r in enumerate(rows) if r.uuid == marker), None)
                if position is None:
                    raise exception.MarkerNotFound(marker=marker)
                rows = rows[position + 1:]
            if limit is not None:
                rows = rows[:limit]
            return _with_extras(session, [_plain(r) for r in rows])

    def count(self, project_id: str, user_id: str | None = None) -> dict[str, int]:
        """Live instances of a project (or one user) and the cores and RAM they hold."""
        cols = models.Instance
        query = sa.select(sa.func.count(cols.id), sa.func.coalesce(sa.func.sum(cols.vcpus), 0),
                          sa.func.coalesce(sa.func.sum(cols.memory_mb), 0)).where(
            cols.project_id == project_id, cols.deleted == 0)
        if user_id is not None:
            query = query.where(cols.user_id == user_id)
        with self.db.reader() as session:
            instances, cores, ram = session.execute(query).one()
        return {"instances": int(instances), "cores": int(cores), "ram": int(ram)}

    # -- writes
    def create(self, values: Mapping[str, Any],
               metadata: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Insert one instance (``uuid`` generated when absent)."""
        values = dict(values)
        values.setdefault("uuid", str(uuid_mod.uuid4()))
        flavor = values.get("flavor") or {}
        for key in ("memory_mb", "vcpus", "root_gb", "ephemeral_gb"):
            values.setdefault(key, int(flavor.get(key) or 0))
        unknown = set(values) - _COLUMNS
        if unknown:
            raise ValueError("unknown instance columns: %s" % ", ".join(sorted(unknown)))
        with self.db.writer() as session:
            conn = session.connection()
            conn.execute(_INSERT, values)
            items = [{"instance_uuid": values["uuid"], "key": key, "value": value}
                     for key, value in (metadata or {}).items()]
            if items:
                conn.execute(_INSERT_METADATA, items)
            return self._read(conn, values["uuid"], read_deleted=True)

    def update(self, instance_uuid: str, values: Mapping[str, Any],
               expected_task_state: Any = ANY,
               expected_vm_state: Sequence[str] | str | None = None,
               action_event: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Set columns of a live instance, checking its states first.

        ``expected_task_state``: a state or a list of states (None included) the
        instance must be in; ``ANY`` skips the check. Times may be given as
        datetimes or ISO strings. The check is part of the UPDATE statement
        (compare-and-set in the database, whichever process writes).
        ``action_event``: an action event to start (``request_id``, ``event``,
        ``host``) or, with a ``result`` (and ``traceback``), to finish in the same
        transaction once the update succeeded (see :meth:`action_event_start`,
        :meth:`action_event_finish`); nothing is recorded when the update fails.
        :raises: InstanceNotFound, UnexpectedTaskStateError, UnexpectedVMStateError.
        """
        bad = set(values) - (_COLUMNS - _READ_ONLY)
        if bad:
            raise ValueError("cannot update instance columns: %s" % ", ".join(sorted(bad)))
        allowed = allowed_vm = None
        if expected_task_state is not ANY:
            allowed = (list(expected_task_state)
                       if isinstance(expected_task_state, (list, tuple, set))
                       else [expected_task_state])
        if expected_vm_state is not None:
            allowed_vm = ([expected_vm_state] if isinstance(expected_vm_state, str)
                          else list(expected_vm_state))
        changes: dict[str, Any] = {}
        for key, value in values.items():
            changes[key] = parse_isotime(value) if key in _TIME_COLUMNS else value
        if "flavor" in values and values["flavor"]:
            for key in ("memory_mb", "vcpus", "root_gb", "ephemeral_gb"):
                changes[key] = int(values["flavor"].get(key) or 0)
        changes["updated_at"] = base_models.utcnow()
        params = dict(changes, w_uuid=instance_uuid)
        if allowed is not None:
            params["w_task"] = [s for s in allowed if s is not None]
        if allowed_vm is not None:
            params["w_vm"] = [s for s in allowed_vm if s is not None]
        statement = _update_statement(None if allowed is None else None in allowed,
                                      None if allowed_vm is None else None in allowed_vm)
        with self.db.writer() as session:
            conn = session.connection()
            done = conn.execute(statement, params)
            current = self._read(conn, instance_uuid)
            if done.rowcount == 0:  # type: ignore[attr-defined]
                if allowed is not None and (current["task_state"] not in allowed
                                            or allowed_vm is None
                                            or current["vm_state"] in allowed_vm):
                    raise exception.UnexpectedTaskStateError(
                        instance_uuid=instance_uuid, expected=allowed,
                        actual=current["task_state"])
                raise exception.UnexpectedVMStateError(
                    instance_uuid=instance_uuid, expected=allowed_vm,
                    actual=current["vm_state"])
            if action_event is not None:
                instance_actions.record(conn, instance_uuid, action_event,
                                        changes["updated_at"])
            return current

    def destroy(self, instance_uuid: str, values: Mapping[str, Any] | None = None
                ) -> dict[str, Any]:
        """Soft-delete: the row stays readable with ``read_deleted``; it leaves
        every server group. Idempotent for an already deleted instance."""
        now = base_models.utcnow()
        with self.db.writer() as session:
            row = session.scalars(sa.select(models.Instance).where(
                models.Instance.uuid == instance_uuid)).first()
            if row is None:
                raise exception.InstanceNotFound(instance_id=instance_uuid)
            if row.deleted == 0:
                for key, value in (values or {}).items():
                    setattr(row, key, value)
                row.deleted = row.id
                row.vm_state = "deleted"
                row.task_state = None
                row.deleted_at = now
                row.terminated_at = row.terminated_at or now
                session.execute(sa.delete(models.InstanceGroupMember).where(
                    models.InstanceGroupMember.instance_uuid == instance_uuid))
            session.flush()
            return to_dict(row)

    # -- metadata and tags
    def set_metadata(self, instance_uuid: str, metadata: Mapping[str, str],
                     replace: bool) -> dict[str, str]:
        """Merge ``metadata`` (or replace all of it); returns the whole set."""
        with self.db.writer() as session:
            row = self._row(session, instance_uuid)
            current = {m.key: m for m in row.metadata_items}
            if replace:
                row.metadata_items = [m for k, m in current.items() if k in metadata]
                current = {m.key: m for m in row.metadata_items}
            for key, value in metadata.items():
                if key in current:
                    current[key].value = value
                else:
                    row.metadata_items.append(models.InstanceMetadata(key=key, value=value))
            row.updated_at = base_models.utcnow()
            session.flush()
            return {m.key: m.value for m in row.metadata_items}

    def delete_metadata(self, instance_uuid: str, key: str) -> None:
        """:raises: InstanceMetadataNotFound."""
        with self.db.writer() as session:
            row = self._row(session, instance_uuid)
            found = [m for m in row.metadata_items if m.key == key]
            if not found:
                raise exception.InstanceMetadataNotFound()
            row.metadata_items.remove(found[0])
            row.updated_at = base_models.utcnow()

    def set_tags(self, instance_uuid: str, tags: Iterable[str]) -> list[str]:
        with self.db.writer() as session:
            row = self._row(session, instance_uuid)
            wanted = sorted(set(tags))
            row.tags = [t for t in row.tags if t.tag in wanted]
            have = {t.tag for t in row.tags}
            row.tags.extend(models.Tag(tag=t) for t in wanted if t not in have)
            row.updated_at = base_models.utcnow()
            return wanted

    def add_tag(self, instance_uuid: str, tag: str) -> bool:
        """Add one tag; False when it was already there."""
        with self.db.writer() as session:
            row = self._row(session, instance_uuid)
            if any(t.tag == tag for t in row.tags):
                return False
            row.tags.append(models.Tag(tag=tag))
            row.updated_at = base_models.utcnow()
            return True

    def delete_tag(self, instance_uuid: str, tag: str) -> None:
        """:raises: InstanceTagNotFound."""
        with self.db.writer() as session:
            row = self._row(session, instance_uuid)
            found = [t for t in row.tags if t.tag == tag]
            if not found:
                raise exception.InstanceTagNotFound(instance_id=instance_uuid, tag=tag)
            row.tags.remove(found[0])
            row.updated_at = base_models.utcnow()

    # -- faults
    def add_fault(self, instance_uuid: str, code: int, message: str,
                  details: str | None = None, host: str | None = None) -> dict[str, Any]:
        with self.db.writer() as session:
            row = models.InstanceFault(instance_uuid=instance_uuid, code=code,
                                       message=message[:255], details=details, host=host)
            session.add(row)
            session.flush()
            return _fault_dict(row)

    def latest_faults(self, instance_uuids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The newest fault of each instance that has one."""
        if not instance_uuids:
            return {}
        query = (sa.select(models.InstanceFault)
                 .where(models.InstanceFault.instance_uuid.in_(list(instance_uuids)))
                 .order_by(models.InstanceFault.id.desc()))
        found: dict[str, dict[str, Any]] = {}
        with self.db.reader() as session:
            for row in session.scalars(query):
                found.setdefault(row.instance_uuid, _fault_dict(row))
        return found

    # -- actions and their events (compute/db/instance_actions.py)
    def action_start(self, instance_uuid: str, action: str, request_id: str,
                     user_id: str | None, project_id: str | None) -> dict[str, Any]:
        with self.db.writer() as session:
            return instance_actions.start(session.connection(), instance_uuid, action,
                                          request_id, user_id, project_id,
                                          base_models.utcnow())

    def _action_row(self, session: orm.Session, instance_uuid: str,
                    request_id: str) -> models.InstanceAction:
        row = session.scalars(sa.select(models.InstanceAction).where(
            models.InstanceAction.instance_uuid == instance_uuid,
            models.InstanceAction.request_id == request_id).order_by(
                models.InstanceAction.id.desc())).first()
        if row is None:
            raise exception.InstanceActionNotFound(request_id=request_id,
                                                   instance_uuid=instance_uuid)
        return row

    def action_event_start(self, instance_uuid: str, request_id: str, event: str,
                           host: str | None = None) -> None:
        """Record that ``event`` (e.g. ``compute_reboot_instance``) started; a missing
        action (a request that did not record one) is ignored."""
        with self.db.writer() as session:
            instance_actions.event_start(session.connection(), instance_uuid, request_id,
                                         event, host, base_models.utcnow())

    def action_event_finish(self, instance_uuid: str, request_id: str, event: str,
                            result: str = "Success", traceback: str | None = None,
                            host: str | None = None) -> None:
        """Close ``event`` (the latest one still open; a new one when none is); an
        error result marks the whole action ``Error``."""
        with self.db.writer() as session:
            instance_actions.event_finish(session.connection(), instance_uuid, request_id,
                                          event, result, traceback, host,
                                          base_models.utcnow())

    def list_actions(self, instance_uuid: str) -> list[dict[str, Any]]:
        query = (sa.select(models.InstanceAction)
                 .where(models.InstanceAction.instance_uuid == instance_uuid)
                 .order_by(models.InstanceAction.start_time.desc(),
                           models.InstanceAction.id.desc()))
        with self.db.reader() as session:
            return [instance_actions.action_dict(r) for r in session.scalars(query)]

    def get_action(self, instance_uuid: str, request_id: str) -> dict[str, Any]:
        """:raises: InstanceActionNotFound."""
        with self.db.reader() as session:
            return instance_actions.action_dict(
                self._action_row(session, instance_uuid, request_id), events=True)
