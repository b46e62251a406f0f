"""Live migration of the fake driver's guests (a mixin of ``FakeDriver``).

The guest really moves: the source's ``live_migration`` takes it out of its
node and hands its state (power state, image, console) on in the returned
``migrate_data``; the destination knows of it only through its own calls
(``pre_live_migration`` prepares an incoming guest, the post step makes it
run there with that state). So it works between fake nodes of one process and
across processes alike, and ``migrate_data`` must cross RPC (JSON) intact.

``live_migration_delay`` (seconds, 0 by default) makes a migration take that
long, during which ``live_migration_abort`` stops it (the guest stays, the
migration raises LiveMigrationAborted) and ``live_migration_force_complete``
ends it at once (the guest is paused for the switch and resumed on the
destination, as the libvirt driver does).
"""
from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

from compute.virt import exception
from compute.virt import model
from compute.virt import power_state
from compute.virt.fake_guest import FakeGuest
from compute.virt.power_state import PowerState

_MIGRATABLE = (power_state.RUNNING, power_state.PAUSED)
# Console lines a migrated guest brings along.
_CONSOLE_CARRIED = 50


class _Running:
    """A live migration under way on the source: what it was asked to do."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.request: str | None = None


class FakeLiveMigration:
    """The live migration hooks of ``compute.virt.driver.ComputeDriver``."""

    host: str
    _lock: threading.Lock
    _guests: dict[str, FakeGuest]
    _next_domain_id: int
    # FakeConfigDrives' (called with the lock held).
    _set_config_drive: Callable[[str, model.ConfigDrive | None], None]

    def _init_live_migration(self) -> None:
        #: Seconds each live migration takes (abort/force-complete need > 0).
        self.live_migration_delay = 0.0
        #: instance uuid -> the guest pre_live_migration prepared on this node.
        self.incoming: dict[str, FakeGuest] = {}
        self._running: dict[str, _Running] = {}

    # FakeDriver's helpers (called with the lock held).
    def _maybe_fail(self, operation: str) -> None:
        raise NotImplementedError

    def _guest(self, instance_uuid: str) -> FakeGuest:
        raise NotImplementedError

    # -- checks ------------------------------------------------------------------

    def check_can_live_migrate_destination(self, context: Any, instance: model.Instance,
                                           block_migration: bool | None) -> dict[str, Any]:
        with self._lock:
            self._maybe_fail("check_can_live_migrate_destination")
            if instance.uuid in self._guests:
                raise exception.MigrationPreCheckError(
                    reason="instance %s already runs on %s" % (instance.uuid, self.host))
        return {"dest_host": self.host, "block_migration": block_migration}

    def check_can_live_migrate_source(self, context: Any, instance: model.Instance,
                                      dest_check_data: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._maybe_fail("check_can_live_migrate_source")
            guest = self._guest(instance.uuid)
            if guest.state not in _MIGRATABLE:
                raise exception.MigrationPreCheckError(
                    reason="the guest is %s, not running or paused" % guest.state.label)
        if dest_check_data.get("dest_host") == self.host:
            raise exception.MigrationPreCheckError(
                reason="the destination is this fake hypervisor (%s)" % self.host)
        block = dest_check_data.get("block_migration")
        # A fake node's "disks" are its own: never shared, a block migration always.
        return dict(dest_check_data, source_host=self.host,
                    block_migration=True if block is None else bool(block),
                    is_shared_instance_path=False)

    # -- the destination ---------------------------------------------------------

    def pre_live_migration(self, context: Any, instance: model.Instance,
                           network_info: model.NetworkInfo,
                           block_device_info: model.BlockDeviceInfo | None,
                           migrate_data: dict[str, Any],
                           config_drive: model.ConfigDrive | None = None) -> dict[str, Any]:
        with self._lock:
            self._maybe_fail("pre_live_migration")
            if instance.uuid in self._guests:
                raise exception.InstanceExists(name=instance.name)
            self._set_config_drive(instance.uuid, config_drive)
            self.incoming[instance.uuid] = FakeGuest(
                instance=instance, image_meta=model.ImageMeta(id=instance.image_ref),
                network_info=tuple(network_info), block_device_info=block_device_info,
                domain_id=self._next_domain_id, state=power_state.PAUSED)
            self._next_domain_id += 1
        return dict(migrate_data)

    def post_live_migration_at_destination(self, context: Any, instance: model.Instance,
                                           network_info: model.NetworkInfo,
                                           block_device_info: model.BlockDeviceInfo | None,
                                           migrate_data: dict[str, Any]) -> None:
        with self._lock:
            self._maybe_fail("post_live_migration_at_destination")
            guest = self.incoming.pop(instance.uuid, None)
            if guest is None:
                if instance.uuid in self._guests:
                    return  # done before: idempotent
                raise exception.InstanceNotFound(instance_id=instance.uuid)
            state = PowerState(int(migrate_data.get("power_state", power_state.RUNNING)))
            if migrate_data.get("resume") and state == power_state.PAUSED:
                state = power_state.RUNNING
            guest = dataclasses.replace(
                guest, instance=instance, network_info=tuple(network_info),
                block_device_info=block_device_info, state=state,
                image_meta=model.ImageMeta(id=migrate_data.get("image_id")
                                           or instance.image_ref),
                volumes=dict(migrate_data.get("volumes") or {}))
            guest.console.extend(str(line) for line in migrate_data.get("console") or ())
            guest.console.append("fake-guest: live-migrated from %s"
                                 % migrate_data.get("source_host"))
            self._guests[instance.uuid] = guest

    def rollback_live_migration_at_destination(
            self, context: Any, instance: model.Instance, network_info: model.NetworkInfo,
            block_device_info: model.BlockDeviceInfo | None,
            migrate_data: dict[str, Any]) -> None:
        with self._lock:
            self._maybe_fail("rollback_live_migration_at_destination")
            self.incoming.pop(instance.uuid, None)
            if instance.uuid not in self._guests:
                self._set_config_drive(instance.uuid, None)

    # -- the source ------------------------------------------------------------------

    def live_migration(self, context: Any, instance: model.Instance, dest: str,
                       migrate_data: dict[str, Any]) -> dict[str, Any]:
        running = _Running()
        with self._lock:
            self._maybe_fail("live_migration")
            guest = self._guest(instance.uuid)
            if guest.state not in _MIGRATABLE:
                raise exception.LiveMigrationFailed(
                    instance_id=instance.uuid, reason="the guest is %s" % guest.state.label)
            self._running[instance.uuid] = running
            delay = self.live_migration_delay
        try:
            if delay:
                running.event.wait(delay)
        finally:
            with self._lock:
                self._running.pop(instance.uuid, None)
        resume = False
        with self._lock:
            if running.request == "abort":
                raise exception.LiveMigrationAborted(instance_id=instance.uuid)
            guest = self._guest(instance.uuid)
            if running.request == "force-complete" and guest.state == power_state.RUNNING:
                guest.state, resume = power_state.PAUSED, True
            del self._guests[instance.uuid]
        return dict(migrate_data, power_state=int(guest.state), resume=resume,
                    image_id=guest.image_meta.id,
                    volumes={k: dict(v) for k, v in guest.volumes.items()},
                    console=list(guest.console)[-_CONSOLE_CARRIED:])

    def post_live_migration(self, context: Any, instance: model.Instance,
                            block_device_info: model.BlockDeviceInfo | None,
                            migrate_data: dict[str, Any]) -> None:
        with self._lock:
            self._maybe_fail("post_live_migration")
            self._guests.pop(instance.uuid, None)
            self._set_config_drive(instance.uuid, None)

    def live_migration_abort(self, instance: model.Instance) -> None:
        self._request(instance, "abort")

    def live_migration_force_complete(self, instance: model.Instance) -> None:
        self._request(instance, "force-complete")

    def _request(self, instance: model.Instance, what: str) -> None:
        with self._lock:
            self._maybe_fail("live_migration_" + what.replace("-", "_"))
            running = self._running.get(instance.uuid)
            if running is None:
                return
            running.request = what
        running.event.set()
