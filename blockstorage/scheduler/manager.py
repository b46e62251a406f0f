"""The RPC endpoint of ``stratus-blockstorage-scheduler`` (topic ``blockstorage-scheduler``).

``create_volume`` is one decision, made under one lock: read the volume and
the capacity reports of the volume services that are up and enabled, run the
filters (:mod:`blockstorage.scheduler.filters`), order the survivors
(:mod:`blockstorage.scheduler.weights`), write ``volumes.host`` (compare-and-set
on ``creating``), then cast ``VolumeAPI.create_volume`` to that backend. What
was placed is remembered per backend until its next capacity report, so quick
successive creates do not overbook a backend between two reports.

Retries: ``filter_properties["retry"]`` holds ``num_attempts`` and the
``hosts`` tried. Each decision counts one attempt and adds its backend; the
volume daemon casts a failed create back here unchanged, the RetryFilter
skips the hosts tried, and past ``[scheduler] scheduler_max_attempts`` the
volume goes to ``error``.

On failure the volume goes to ``error`` and the reason (which filter removed
how many backends) is logged and kept in the volume's admin metadata under
``fail_reason`` (an operator reads it with ``volume show`` as admin; Cinder's
user messages API does not exist here).

``extend_volume`` and ``retype`` check the volume's own backend only (no
migration): room for the growth / the new type's extra specs; on a refusal
the volume's status goes back to ``available``/``in-use`` with a fail_reason.
"""
from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Protocol

import oslo_messaging as messaging
from oslo_config import cfg
from oslo_log import log as logging

from common import exception as common_exception
from common.db import engine
from blockstorage import exception
from blockstorage import rpcapi
from blockstorage import states
from blockstorage.db import services as services_db
from blockstorage.db import snapshots as snapshots_db
from blockstorage.db import types as types_db
from blockstorage.db import volumes as volumes_db
from blockstorage.scheduler import filters as filters_mod
from blockstorage.scheduler import weights as weights_mod
from blockstorage.scheduler.filters import BackendState, RequestSpec

LOG = logging.getLogger(__name__)
BINARY = rpcapi.SCHEDULER_BINARY
FAIL_REASON_KEY = "fail_reason"


class VolumeRPC(Protocol):
    def create_volume(self, ctxt: Any, host: str, volume_id: str,
                      request_spec: dict[str, Any], filter_properties: dict[str, Any],
                      allow_reschedule: bool = True) -> None: ...

    def extend_volume(self, ctxt: Any, host: str, volume_id: str, new_size: int) -> None: ...

    def retype(self, ctxt: Any, host: str, volume_id: str, new_type_id: str) -> None: ...


class _Stores:
    """The reads and writes of one decision, over the block storage stores."""

    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database) -> None:
        self.conf = conf
        self.volumes = volumes_db.VolumeStore(db)
        self.snapshots = snapshots_db.SnapshotStore(db)
        self.types = types_db.TypeStore(db)
        self.services = services_db.ServiceStore(db)

    def get_volume(self, volume_id: str) -> dict[str, Any]:
        return self.volumes.get(volume_id)

    def update_volume(self, volume_id: str, values: Mapping[str, Any],
                      expected_status: list[str]) -> None:
        self.volumes.change(volume_id, values, expected_status=expected_status)

    def set_fail_reason(self, volume_id: str, reason: str) -> None:
        self.volumes.set_metadata(volume_id, {FAIL_REASON_KEY: reason[:255]},
                                  kind="admin_metadata")

    def clear_fail_reason(self, volume_id: str) -> None:
        try:
            self.volumes.delete_metadata(volume_id, FAIL_REASON_KEY, kind="admin_metadata")
        except (exception.VolumeNotFound, exception.VolumeAdminMetadataNotFound):
            pass

    def get_snapshot(self, snapshot_id: str) -> dict[str, Any]:
        return self.snapshots.get(snapshot_id)

    def extra_specs(self, volume_type_id: str | None) -> dict[str, str]:
        if not volume_type_id:
            return {}
        return dict(self.types.get(volume_type_id)["extra_specs"])

    def volume_backends(self) -> list[BackendState]:
        """The backends of the volume services that are up, enabled and reported."""
        services = self.services.list_up(rpcapi.VOLUME_BINARY,
                                         float(self.conf.service_down_time))
        return [BackendState(host=str(s["host"]),
                             availability_zone=str(s["availability_zone"]),
                             capabilities=dict(s["capabilities"]))
                for s in services if s.get("capabilities")]


class SchedulerManager:
    """Serves ``SchedulerAPI``: create_volume, extend_volume, retype."""

    RPC_API_VERSION = "1.0"
    target = messaging.Target(version=RPC_API_VERSION)

    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database,
                 volume_rpc: VolumeRPC) -> None:
        self.conf = conf
        self.stores = _Stores(conf, db)
        self.volume_rpc = volume_rpc
        self._lock = threading.Lock()
        # backend host -> (report timestamp, GiB placed since that report)
        self._consumed: dict[str, tuple[Any, int]] = {}

    # -- helpers --------------------------------------------------------------------------

    def _filters(self) -> list[filters_mod.Filter]:
        return filters_mod.get_filters(self.conf.scheduler.scheduler_default_filters)

    def _weighers(self) -> list[weights_mod.Weigher]:
        return weights_mod.get_weighers(self.conf.scheduler.scheduler_default_weighers)

    def _backends(self) -> list[BackendState]:
        backends = self.stores.volume_backends()
        for backend in backends:
            stamp, gb = self._consumed.get(backend.host, (None, 0))
            if stamp is not None and stamp == backend.capabilities.get("timestamp"):
                backend.consumed_gb = gb
            else:
                self._consumed.pop(backend.host, None)
        return backends

    def _consume(self, backend: BackendState, size: int) -> None:
        stamp = backend.capabilities.get("timestamp")
        _old, gb = self._consumed.get(backend.host, (stamp, 0))
        self._consumed[backend.host] = (stamp, gb + size)

    def _fail(self, volume_id: str, reason: str, status: str = states.ERROR,
              expected: list[str] | None = None) -> None:
        LOG.warning("Volume %(id)s: %(reason)s", {"id": volume_id, "reason": reason})
        # The reason first: whoever sees the status also finds why.
        try:
            self.stores.set_fail_reason(volume_id, reason)
            self.stores.update_volume(volume_id, {"status": status},
                                      expected or [states.CREATING])
        except exception.VolumeNotFound:
            return
        except exception.InvalidVolumeStatus as err:
            LOG.info("Volume %(id)s moved on meanwhile: %(err)s",
                     {"id": volume_id, "err": err})
            self.stores.clear_fail_reason(volume_id)

    def _spec(self, volume: Mapping[str, Any], request_spec: Mapping[str, Any],
              filter_properties: Mapping[str, Any]) -> RequestSpec:
        vtype = request_spec.get("volume_type") or {}
        if isinstance(vtype, Mapping) and "extra_specs" in vtype:
            extra = dict(vtype.get("extra_specs") or {})
        else:
            extra = self.stores.extra_specs(volume.get("volume_type_id"))
        retry = filter_properties.get("retry") or {}
        return RequestSpec(volume_id=str(volume["id"]), size=int(volume["size"]),
                           availability_zone=volume.get("availability_zone"),
                           extra_specs=extra, retry_hosts=list(retry.get("hosts") or []),
                           required_backend=self._source_backend(volume, request_spec))

    def _source_backend(self, volume: Mapping[str, Any],
                        request_spec: Mapping[str, Any]) -> str | None:
        snapshot_id = request_spec.get("snapshot_id") or volume.get("snapshot_id")
        source_id = request_spec.get("source_volid") or volume.get("source_volid")
        if snapshot_id:
            source_id = self.stores.get_snapshot(str(snapshot_id))["volume_id"]
        if not source_id:
            return None
        host = self.stores.get_volume(str(source_id)).get("host")
        return rpcapi.backend_of(str(host)) if host else "(unscheduled source)"

    def _select(self, spec: RequestSpec) -> BackendState:
        """The best backend for ``spec``. :raises: NoValidBackend."""
        result = filters_mod.run_filters(self._filters(), self._backends(), spec)
        if not result.backends:
            raise exception.NoValidBackend(reason=result.reason(spec))
        return weights_mod.order(self._weighers(), result.backends, spec)[0]

    # -- RPC methods ------------------------------------------------------------------------

    def create_volume(self, ctxt: Any, volume_id: str, request_spec: dict[str, Any],
                      filter_properties: dict[str, Any]) -> None:
        """Place a ``creating`` volume and cast its creation to the chosen backend."""
        request_spec = dict(request_spec or {})
        filter_properties = dict(filter_properties or {})
        retry = dict(filter_properties.get("retry") or {})
        retry["num_attempts"] = int(retry.get("num_attempts") or 0) + 1
        retry["hosts"] = list(retry.get("hosts") or [])
        filter_properties["retry"] = retry
        max_attempts = int(self.conf.scheduler.scheduler_max_attempts)
        if retry["num_attempts"] > max_attempts:
            last = retry.get("exc") or "unknown error"
            self._fail(volume_id, "Exceeded max scheduling attempts %d for volume %s; "
                       "last error: %s" % (max_attempts, volume_id, last))
            return
        with self._lock:
            try:
                volume = self.stores.get_volume(volume_id)
            except exception.VolumeNotFound:
                LOG.info("Volume %s was deleted before it was scheduled", volume_id)
                return
            if volume["status"] != states.CREATING:
                LOG.info("Volume %(id)s is %(status)s, not scheduling it",
                         {"id": volume_id, "status": volume["status"]})
                return
            try:
                spec = self._spec(volume, request_spec, filter_properties)
                chosen = self._select(spec)
            except (exception.NoValidBackend, common_exception.NotFound) as err:
                self._fail(volume_id, err.message)
                return
            try:
                self.stores.update_volume(volume_id, {"host": chosen.backend_id},
                                          [states.CREATING])
            except (exception.VolumeNotFound, exception.InvalidVolumeStatus) as err:
                LOG.info("Volume %(id)s changed while scheduled: %(err)s",
                         {"id": volume_id, "err": err})
                return
            self._consume(chosen, spec.size)
        retry["hosts"].append(chosen.backend_id)
        LOG.info("Scheduled volume %(id)s on %(host)s (attempt %(n)d)",
                 {"id": volume_id, "host": chosen.backend_id, "n": retry["num_attempts"]})
        self.volume_rpc.create_volume(ctxt, chosen.backend_id, volume_id, request_spec,
                                      filter_properties, allow_reschedule=True)

    def _own_backend_check(self, volume: Mapping[str, Any], spec: RequestSpec,
                           names: list[str]) -> None:
        """Run the named filters on the volume's own backend. :raises: NoValidBackend."""
        host = rpcapi.backend_of(str(volume.get("host") or ""))
        backends = [b for b in self._backends() if b.host == host]
        flts = [f for f in self._filters() if f.name in names]
        result = filters_mod.run_filters(flts, backends, spec)
        if not result.backends:
            raise exception.NoValidBackend(reason=result.reason(spec))

    @staticmethod
    def _resting(volume: Mapping[str, Any]) -> str:
        return states.IN_USE if volume.get("attach_status") == states.ATTACHED \
            else states.AVAILABLE

    def extend_volume(self, ctxt: Any, volume_id: str, new_size: int,
                      request_spec: dict[str, Any]) -> None:
        """Check the volume's backend has room to grow it, then cast the extend."""
        with self._lock:
            try:
                volume = self.stores.get_volume(volume_id)
            except exception.VolumeNotFound:
                return
            growth = int(new_size) - int(volume["size"])
            spec = RequestSpec(volume_id=volume_id, size=max(growth, 0))
            try:
                self._own_backend_check(volume, spec, [filters_mod.CapacityFilter.name])
            except exception.NoValidBackend as err:
                self._fail(volume_id, err.message, self._resting(volume),
                           [states.EXTENDING])
                return
            backend = [b for b in self._backends()
                       if b.host == rpcapi.backend_of(str(volume["host"]))]
            if backend:
                self._consume(backend[0], spec.size)
        self.volume_rpc.extend_volume(ctxt, str(volume["host"]), volume_id, int(new_size))

    def retype(self, ctxt: Any, volume_id: str, new_type_id: str,
               request_spec: dict[str, Any]) -> None:
        """Check the volume's backend meets the new type's extra specs, then cast."""
        try:
            volume = self.stores.get_volume(volume_id)
            spec = RequestSpec(volume_id=volume_id, size=0,
                               extra_specs=self.stores.extra_specs(new_type_id))
            self._own_backend_check(volume, spec, [filters_mod.CapabilitiesFilter.name])
        except exception.VolumeNotFound:
            return
        except (exception.NoValidBackend, common_exception.NotFound) as err:
            self._fail(volume_id, "Retype needs a migration, which is not supported: "
                       + err.message, self._resting(volume), [states.RETYPING])
            return
        self.volume_rpc.retype(ctxt, str(volume["host"]), volume_id, new_type_id)
