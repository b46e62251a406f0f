"""Quotas of the block storage service: limits, live usage, checks and the data
of ``os-quota-sets``, ``os-quota-class-sets`` and ``limits``.

A project's limit of a resource is its own (``quotas`` table), else the
``default`` quota class's, else the [quota] option (per-type resources:
-1, no limit). Usage is summed live from the tables (blockstorage/db/quotas.py).
Check and create must not interleave with another request of the same
project, so callers create the row inside :meth:`QuotaEngine.reserve`::

    with engine.reserve(project_id, quotas.volume_deltas(size, type_name)):
        volume = volume_store.create(...)

(one lock per project and process; several API processes on one database can
still overrun a limit by a request or two, as with compute).
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from oslo_config import cfg

from common.db import engine as db_engine
from blockstorage import exception
from blockstorage.db import quotas as quotas_db

# The resources every quota set shows, in Cinder's order; [quota] has an option
# of each name.
BASE_RESOURCES = ("volumes", "snapshots", "gigabytes", "backups", "backup_gigabytes",
                  "groups", "per_volume_gigabytes")
DEFAULT_CLASS = "default"
UNLIMITED = -1


def volume_deltas(size: int, type_name: str | None, count: int = 1) -> dict[str, int]:
    """What creating ``count`` volumes of ``size`` GiB (of type ``type_name``) adds.
    For an extend pass ``count=0`` and the growth as ``size``."""
    deltas = {"volumes": count, "gigabytes": size}
    if type_name:
        deltas.update({"volumes_" + type_name: count, "gigabytes_" + type_name: size})
    return deltas


def snapshot_deltas(size: int, type_name: str | None) -> dict[str, int]:
    """What one snapshot of a ``size`` GiB volume of type ``type_name`` adds."""
    deltas = {"snapshots": 1, "gigabytes": size}
    if type_name:
        deltas.update({"snapshots_" + type_name: 1, "gigabytes_" + type_name: size})
    return deltas


def backup_deltas(size: int) -> dict[str, int]:
    """What one backup of a ``size`` GiB volume adds."""
    return {"backups": 1, "backup_gigabytes": size}


def _over_error(resource: str, requested: int, limit: int, used: int) -> exception.QuotaExceeded:
    """The error Cinder raises for ``resource`` over its limit."""
    if resource == "gigabytes" or resource.startswith("gigabytes_"):
        return exception.VolumeSizeExceedsAvailableQuota(
            name=resource, requested=requested, quota=limit, consumed=used)
    if resource == "backup_gigabytes":
        return exception.VolumeBackupSizeExceedsAvailableQuota(
            requested=requested, quota=limit, consumed=used)
    if resource == "volumes" or resource.startswith("volumes_"):
        return exception.VolumeLimitExceeded(allowed=limit, name=resource)
    if resource == "snapshots" or resource.startswith("snapshots_"):
        return exception.SnapshotLimitExceeded(allowed=limit)
    if resource == "backups":
        return exception.BackupLimitExceeded(allowed=limit)
    return exception.QuotaExceeded(overs=resource)


class QuotaEngine:
    """Quota logic on one database; thread-safe."""

    def __init__(self, conf: cfg.ConfigOpts, db: db_engine.Database) -> None:
        self.conf = conf
        self.store = quotas_db.QuotaStore(db)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    # -- limits
    def resources(self) -> list[str]:
        """Every quota resource: the base ones, then three per volume type."""
        names = list(BASE_RESOURCES)
        for type_name in sorted(self.store.type_names().values()):
            names.extend(prefix + type_name for prefix in quotas_db.PER_TYPE_PREFIXES)
        return names

    def _config_default(self, resource: str) -> int:
        if resource in BASE_RESOURCES:
            return int(self.conf.quota[resource])
        return UNLIMITED

    def defaults(self) -> dict[str, int]:
        """The limits of a project without its own: [quota], overridden by the
        ``default`` quota class (``os-quota-sets/{p}/defaults``)."""
        stored = self.store.get_class(DEFAULT_CLASS)
        return {r: stored.get(r, self._config_default(r)) for r in self.resources()}

    def class_limits(self, class_name: str) -> dict[str, int]:
        """A quota class's limits (``os-quota-class-sets/{class}``): its own, else
        the defaults."""
        stored = self.store.get_class(class_name)
        return {r: stored.get(r, v) for r, v in self.defaults().items()}

    def update_class(self, class_name: str, values: Mapping[str, Any]) -> dict[str, int]:
        """Change a quota class's limits. :raises: InvalidInput (bad name or value)."""
        self.store.set_class(class_name, self._validated(values))
        return self.class_limits(class_name)

    def get_limits(self, project_id: str) -> dict[str, int]:
        """A project's limits: its own, else the defaults."""
        own = self.store.get_project(project_id)
        return {r: own.get(r, v) for r, v in self.defaults().items()}

    def limits_for(self, project_id: str, resources: Iterable[str]) -> dict[str, int]:
        """A project's limits of ``resources`` only (those of :meth:`get_limits`,
        read with one query and without listing the volume types)."""
        own, stored = self.store.get_project_and_class(project_id, DEFAULT_CLASS)
        return {r: own[r] if r in own else stored[r] if r in stored
                else self._config_default(r) for r in resources}

    def get_usage(self, project_id: str) -> dict[str, int]:
        """In-use amounts of every resource (0 where nothing is used)."""
        used = self.store.usage(project_id)
        return {r: used.get(r, 0) for r in self.resources()}

    # -- os-quota-sets
    def show(self, project_id: str, usage: bool = False) -> dict[str, Any]:
        """The ``quota_set`` of ``GET os-quota-sets/{project_id}[?usage=True]``
        (``id`` included): limits, or ``{"limit", "in_use", "reserved"}`` each."""
        limits = self.get_limits(project_id)
        body: dict[str, Any] = {"id": project_id}
        if not usage:
            body.update(limits)
            return body
        used = self.get_usage(project_id)
        for resource, limit in limits.items():
            body[resource] = {"limit": limit, "in_use": used.get(resource, 0),
                              "reserved": 0}
        return body

    def update(self, project_id: str, values: Mapping[str, Any],
               skip_validation: bool = True) -> dict[str, int]:
        """``PUT os-quota-sets/{project_id}``: set the given limits; returns every
        limit (the body's ``quota_set``, without ``id``).

        :param skip_validation: False also refuses a limit below current usage
            (Cinder's ``skip_validation=false``).
        :raises: InvalidInput (unknown resource or bad value), QuotaBelowUsage.
        """
        limits = self._validated(values)
        if not skip_validation:
            used = self.get_usage(project_id)
            for resource, limit in limits.items():
                if limit != UNLIMITED and limit < used.get(resource, 0):
                    raise exception.QuotaBelowUsage(resource=resource, limit=limit,
                                                    used=used[resource])
        self.store.set_project(project_id, limits)
        return self.get_limits(project_id)

    def delete(self, project_id: str) -> None:
        """``DELETE os-quota-sets/{project_id}``: back to the defaults."""
        self.store.delete_project(project_id)

    def _validated(self, values: Mapping[str, Any]) -> dict[str, int]:
        known = set(self.resources())
        unknown = sorted(set(values) - known)
        if unknown:
            raise exception.InvalidInput(reason="Bad key(s) in quota set: %s"
                                         % ",".join(unknown))
        limits = {}
        for resource, value in values.items():
            limits[resource] = self._limit_value(resource, value)
        return limits

    @staticmethod
    def _limit_value(resource: str, value: Any) -> int:
        if isinstance(value, bool):
            value = None
        try:
            limit = int(value)
        except (TypeError, ValueError):
            raise exception.InvalidInput(
                reason="%s must be an integer, not %r." % (resource, value))
        if isinstance(value, float) and value != limit:
            raise exception.InvalidInput(reason="%s must be an integer." % resource)
        if limit < UNLIMITED:
            raise exception.InvalidInput(
                reason="Quota limit %s for %s must be -1 or greater." % (limit, resource))
        return limit

    # -- checks
    def check(self, project_id: str, deltas: Mapping[str, int],
              limits: Mapping[str, int] | None = None) -> None:
        """Whether ``project_id`` may add ``deltas`` (see :func:`volume_deltas`).

        :param limits: the project's limits of (at least) the resources of
            ``deltas``, when the caller read them already (:meth:`limits_for`).
        :raises: QuotaExceeded, as the subclass Cinder uses for the first resource
            over its limit (the first name in sorted order, as Cinder reports it).
        """
        wanted = {r: d for r, d in deltas.items() if d > 0}
        if not wanted:
            return
        if limits is None:
            limits = self.limits_for(project_id, wanted)
        used = self.store.usage(project_id)
        overs = [r for r, d in wanted.items()
                 if limits.get(r, UNLIMITED) != UNLIMITED
                 and used.get(r, 0) + d > limits[r]]
        if not overs:
            return
        first = sorted(overs)[0]
        raise _over_error(first, wanted[first], limits[first], used.get(first, 0))

    def check_volume_size(self, project_id: str, size: int,
                          limits: Mapping[str, int] | None = None) -> None:
        """A volume of ``size`` GiB is within ``per_volume_gigabytes``.

        :param limits: as :meth:`check`'s (with ``per_volume_gigabytes``).
        :raises: VolumeSizeExceedsLimit.
        """
        if limits is None:
            limits = self.limits_for(project_id, ["per_volume_gigabytes"])
        limit = limits["per_volume_gigabytes"]
        if limit != UNLIMITED and size > limit:
            raise exception.VolumeSizeExceedsLimit(size=size, limit=limit)

    @contextlib.contextmanager
    def reserve(self, project_id: str, deltas: Mapping[str, int],
                limits: Mapping[str, int] | None = None) -> Iterator[None]:
        """Check ``deltas`` and hold the project's lock while the caller creates
        the rows that use them (``limits``: as :meth:`check`'s; the lock guards
        the usage, not the limits, which an admin changes without it).

        :raises: QuotaExceeded."""
        with self._lock(project_id):
            self.check(project_id, deltas, limits)
            yield

    def _lock(self, project_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(project_id, threading.Lock())

    # -- limits API
    def absolute_limits(self, project_id: str) -> dict[str, int]:
        """The ``absolute`` object of ``GET /limits``."""
        limits = self.get_limits(project_id)
        used = self.store.usage(project_id)
        return {"maxTotalVolumes": limits["volumes"],
                "maxTotalSnapshots": limits["snapshots"],
                "maxTotalVolumeGigabytes": limits["gigabytes"],
                "maxTotalBackups": limits["backups"],
                "maxTotalBackupGigabytes": limits["backup_gigabytes"],
                "totalVolumesUsed": used.get("volumes", 0),
                "totalGigabytesUsed": used.get("gigabytes", 0),
                "totalSnapshotsUsed": used.get("snapshots", 0),
                "totalBackupsUsed": used.get("backups", 0),
                "totalBackupGigabytesUsed": used.get("backup_gigabytes", 0)}
