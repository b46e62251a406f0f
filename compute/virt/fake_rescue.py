"""Rescue of the fake driver's guests (a mixin of ``FakeDriver``).

``rescue`` keeps the instance's own guest aside (in ``rescued``) and runs a
rescue guest in its place: same instance, VIFs and console (the log goes on),
booted from the rescue image, after ``spawn_delay`` seconds like any boot of
a slow fake hypervisor. ``unrescue`` puts the kept guest back and starts it;
``destroy`` drops both. The console tells what happened (``fake-guest: rescue
...`` lines), and ``rescue_passwords`` what password each rescue was given.
"""
from __future__ import annotations

import threading
import time
from typing import Any

from compute.virt import model
from compute.virt import power_state
from compute.virt.fake_guest import FakeGuest


class FakeRescue:
    """The rescue hooks of ``compute.virt.driver.ComputeDriver``."""

    _lock: threading.Lock
    _guests: dict[str, FakeGuest]
    _next_domain_id: int
    spawn_delay: float

    def _init_rescue(self) -> None:
        #: instance uuid -> its own guest, kept while a rescue guest runs.
        self.rescued: dict[str, FakeGuest] = {}
        #: instance uuid -> the password of its last rescue.
        self.rescue_passwords: dict[str, str | None] = {}

    # FakeDriver's helpers (called with the lock held).
    def _maybe_fail(self, operation: str) -> None:
        raise NotImplementedError

    def _guest(self, instance_uuid: str) -> FakeGuest:
        raise NotImplementedError

    def _boot(self, guest: FakeGuest) -> None:
        raise NotImplementedError

    def rescue(self, context: Any, instance: model.Instance, network_info: model.NetworkInfo,
               image_meta: model.ImageMeta, rescue_password: str | None,
               block_device_info: model.BlockDeviceInfo | None = None) -> None:
        if self.spawn_delay:
            time.sleep(self.spawn_delay)
        with self._lock:
            self._maybe_fail("rescue")
            current = self._guest(instance.uuid)
            own = self.rescued.setdefault(instance.uuid, current)
            guest = FakeGuest(instance=instance, image_meta=image_meta,
                              network_info=tuple(network_info) or own.network_info,
                              block_device_info=own.block_device_info,
                              domain_id=self._next_domain_id, state=power_state.SHUTDOWN,
                              console=own.console)
            self._next_domain_id += 1
            self._guests[instance.uuid] = guest
            self.rescue_passwords[instance.uuid] = rescue_password
            guest.console.append("fake-guest: rescue: booting image %s, the root disk of %s "
                                 "attached as vdb" % (image_meta.id, instance.uuid))
            self._boot(guest)

    def unrescue(self, context: Any, instance: model.Instance,
                 network_info: model.NetworkInfo) -> None:
        with self._lock:
            self._maybe_fail("unrescue")
            current = self._guest(instance.uuid)
            own = self.rescued.pop(instance.uuid, None)
            if own is None:
                own = current
            else:
                own.domain_id = self._next_domain_id
                self._next_domain_id += 1
                own.state = power_state.SHUTDOWN
                self._guests[instance.uuid] = own
                own.console.append("fake-guest: rescue: over, booting the instance's own disk")
            if own.state != power_state.RUNNING:
                self._boot(own)

    def _forget_rescue(self, instance_uuid: str) -> None:
        """What ``destroy`` drops besides the guest (called with the lock held)."""
        self.rescued.pop(instance_uuid, None)
        self.rescue_passwords.pop(instance_uuid, None)

