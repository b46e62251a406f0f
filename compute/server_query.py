"""Server list queries: Nova's search options (``GET /servers?...``) turned into
an :class:`~compute.db.instances.InstanceStore` query plus the filters the
database cannot apply here (the ``name`` regex, ``flavor``, ``ip``/``ip6``).

Non-admins filter by ``reservation_id``, ``name``, ``status``, ``image``,
``flavor``, ``ip``, ``changes-since`` (and ``ip6`` from 2.5, the tag filters
from 2.26; a ``status`` none of whose values is a status is a 400 from 2.38,
an empty list before) and see their own project's servers; other filters are ignored for
them, as on Nova. Admins (policy ``servers:allow_all_filters``) may also filter
by host, node, user, state and deleted servers, and list every project's
servers with ``all_tenants``.
"""
from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Mapping, Sequence
from typing import Any

from oslo_utils import timeutils

from common import exception as common_exception
from compute import exception
from compute import states
from compute.db import instances as instances_db

# Nova's sort keys; the ignored ones have no column here (accepted, not sorted on).
SORT_KEYS = ("access_ip_v4", "access_ip_v6", "auto_disk_config", "availability_zone",
             "config_drive", "created_at", "display_description", "display_name", "host",
             "hostname", "image_ref", "instance_type_id", "kernel_id", "key_name",
             "launch_index", "launched_at", "locked_by", "node", "power_state", "progress",
             "project_id", "ramdisk_id", "root_device_name", "task_state", "terminated_at",
             "updated_at", "user_id", "uuid", "vm_state")
IGNORED_SORT_KEYS = ("instance_type_id", "kernel_id", "ramdisk_id")
ADMIN_SORT_KEYS = ("host", "node")
# Instance columns no server view shows: not read for a list (the request spec is
# the largest JSON of a row).
NOT_SHOWN = ("request_spec",)
_TRUE = ("1", "t", "true", "on", "y", "yes")
_FALSE = ("0", "f", "false", "off", "n", "no")
# Admin-only filters on plain columns: query name -> column.
_ADMIN_EQUAL = {"host": "host", "node": "node", "user_id": "user_id", "uuid": "uuid",
                "key_name": "key_name", "availability_zone": "availability_zone",
                "hostname": "hostname", "launch_index": "launch_index",
                "vm_state": "vm_state", "task_state": "task_state",
                "power_state": "power_state"}

Params = Mapping[str, Sequence[str]]


@dataclasses.dataclass
class ServerQuery:
    """One list request: the store's arguments and the filters applied after."""

    store_args: dict[str, Any] = dataclasses.field(default_factory=dict)
    sort: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    name: re.Pattern[str] | None = None
    flavor_id: str | None = None
    ip: re.Pattern[str] | None = None
    ip6: re.Pattern[str] | None = None
    limit: int | None = None
    marker: str | None = None
    # A filter no server can match (an unknown status): the answer is [].
    empty: bool = False

    @property
    def post_filtered(self) -> bool:
        return any(f is not None for f in (self.name, self.flavor_id, self.ip, self.ip6))


def _last(params: Params, name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None


def _bool(name: str, value: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise common_exception.ValidationError(
        field=name, detail="Unrecognized value '%s', acceptable values are: '0', '1', "
        "'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'" % value)


def all_tenants(params: Params, project_id: str | None) -> bool:
    """Whether the request lists every project's servers (``all_tenants``, or a
    ``tenant_id`` other than the caller's); the caller checks the policy.

    :raises: ValidationError for a value that is not a boolean.
    """
    raw = _last(params, "all_tenants")
    if raw is not None:
        return raw == "" or _bool("all_tenants", raw)
    tenant = _last(params, "tenant_id")
    return tenant is not None and tenant != project_id


def _regex(name: str, value: str) -> re.Pattern[str]:
    try:
        return re.compile(value)
    except re.error:
        raise exception.InvalidFilter(name=name, value=value)


def _time(name: str, value: str) -> datetime.datetime:
    try:
        parsed = timeutils.parse_isotime(value)
    except ValueError:
        raise exception.InvalidFilter(name=name, value=value)
    return timeutils.normalize_time(parsed)


def _status(query: ServerQuery, values: Sequence[str], version: tuple[int, int]) -> None:
    vm_states: set[str] = set()
    task_states: set[str | None] = set()
    any_task = False
    for value in values:
        found = states.STATUS_FILTERS.get(value.strip().upper())
        if found is None:
            continue
        vm_states.update(found[0])
        if found[1] is None:
            any_task = True
        else:
            task_states.update(found[1])
    if not vm_states:
        # As Nova: an error only when no value is a status (from 2.38; before,
        # nothing matches).
        if version >= (2, 38):
            raise common_exception.Invalid("Invalid status value")
        query.empty = True
        return
    query.store_args["vm_states"] = sorted(vm_states)
    if not any_task:
        query.store_args["task_states"] = sorted(task_states, key=str)


def _sort(params: Params, admin: bool) -> list[tuple[str, str]]:
    keys = list(params.get("sort_key") or [])
    dirs = list(params.get("sort_dir") or [])
    for direction in dirs:
        if direction not in ("asc", "desc"):
            raise common_exception.ValidationError(
                field="sort_dir", detail="'%s' is not one of ['asc', 'desc']" % direction)
    if not keys:
        return [("created_at", dirs[0] if dirs else "desc")]
    found: list[tuple[str, str]] = []
    for index, key in enumerate(keys):
        if key not in SORT_KEYS:
            raise common_exception.ValidationError(
                field="sort_key", detail="'%s' is not a valid sort key" % key)
        direction = dirs[index] if index < len(dirs) else "desc"
        if key in IGNORED_SORT_KEYS or (key in ADMIN_SORT_KEYS and not admin):
            continue
        found.append((key, direction))
    return found or [("created_at", "desc")]


def _tags(value: str | None) -> list[str]:
    return [t for t in (value or "").split(",") if t]


def parse(params: Params, *, project_id: str | None, every_project: bool, admin: bool,
          version: tuple[int, int], limit: int, marker: str | None) -> ServerQuery:
    """A :class:`ServerQuery` from the query string (``name -> [values]``).

    ``every_project``: the caller may and asked to list every project's servers;
    ``admin``: the caller may use every filter.
    :raises: ValidationError / InvalidFilter (400) for malformed values.
    """
    query = ServerQuery(limit=limit, marker=marker, sort=_sort(params, admin))
    args = query.store_args
    if not every_project:
        args["project_id"] = project_id
    elif admin:
        tenant = _last(params, "project_id") or _last(params, "tenant_id")
        if tenant:
            args["project_id"] = tenant
    args["read_deleted"] = False
    since = _last(params, "changes-since")
    if since is not None:
        args["changes_since"] = _time("changes-since", since)
        args["read_deleted"] = None  # deleted servers too: clients poll for deletions
    if params.get("status"):
        _status(query, params["status"], version)
    equal: dict[str, Any] = {}
    for key, column in (("image", "image_ref"), ("reservation_id", "reservation_id")):
        value = _last(params, key)
        if value is not None:
            equal[column] = value
    name = _last(params, "name")
    if name is not None:
        query.name = _regex("name", name)
    query.flavor_id = _last(params, "flavor")
    ip = _last(params, "ip")
    if ip is not None:
        query.ip = _regex("ip", ip)
    ip6 = _last(params, "ip6")
    if ip6 is not None and (admin or version >= (2, 5)):
        query.ip6 = _regex("ip6", ip6)
    if version >= (2, 26):
        args.update(tags=_tags(_last(params, "tags")), tags_any=_tags(_last(params, "tags-any")),
                    not_tags=_tags(_last(params, "not-tags")),
                    not_tags_any=_tags(_last(params, "not-tags-any")))
    if admin:
        _admin_filters(query, params, equal)
    if equal:
        args["equal"] = equal
    return query


def _admin_filters(query: ServerQuery, params: Params, equal: dict[str, Any]) -> None:
    deleted = _last(params, "deleted")
    if deleted is not None:
        query.store_args["read_deleted"] = _bool("deleted", deleted)
    vm_states = query.store_args.get("vm_states") or []
    if states.DELETED in vm_states or states.SOFT_DELETED in vm_states:
        query.store_args["read_deleted"] = None
    for name, column in _ADMIN_EQUAL.items():
        values = list(params.get(name) or [])
        if not values:
            continue
        if column in ("power_state", "launch_index"):
            try:
                equal[column] = [int(v) for v in values]
            except ValueError:
                raise exception.InvalidFilter(name=name, value=values[-1])
        else:
            equal[column] = values if len(values) > 1 else values[0]


def _addresses(instance: Mapping[str, Any], version: int) -> list[str]:
    found = []
    for vif in instance.get("network_info") or []:
        for subnet in (vif.get("network") or {}).get("subnets") or []:
            for ip in subnet.get("ips") or []:
                address = str(ip.get("address") or "")
                if address and (ip.get("version") or (6 if ":" in address else 4)) == version:
                    found.append(address)
    return found


def _matches(query: ServerQuery, instance: Mapping[str, Any]) -> bool:
    if query.name is not None and not query.name.search(instance["display_name"] or ""):
        return False
    if query.flavor_id is not None and \
            str((instance["flavor"] or {}).get("flavorid")) != query.flavor_id:
        return False
    for pattern, version in ((query.ip, 4), (query.ip6, 6)):
        if pattern is not None and not any(pattern.search(a)
                                           for a in _addresses(instance, version)):
            return False
    return True


def run(store: instances_db.InstanceStore, query: ServerQuery) -> list[dict[str, Any]]:
    """The page of servers ``query`` asks for.

    :raises: MarkerNotFound (400) when the marker names no listed server.
    """
    if query.empty:
        return []
    if not query.post_filtered:
        return store.get_all(sort=query.sort, limit=query.limit, marker=query.marker,
                             without=NOT_SHOWN, **query.store_args)
    rows = [r for r in store.get_all(sort=query.sort, without=NOT_SHOWN, **query.store_args)
            if _matches(query, r)]
    start = 0
    if query.marker is not None:
        position = next((i for i, r in enumerate(rows) if r["uuid"] == query.marker), None)
        if position is None:
            raise exception.MarkerNotFound(marker=query.marker)
        start = position + 1
    end = None if query.limit is None else start + query.limit
    return rows[start:end]
