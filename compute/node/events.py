"""Waiting for external events: the network service's ``network-vif-plugged``.

A build registers what it expects *before* the guest is created (an event may
come back as soon as the tap device exists), as waiters keyed by
``(name, tag)`` per instance; ``external_instance_event`` delivers events to
them; the build then waits for all of them up to ``[compute]
vif_plugging_timeout`` seconds. Deleting the instance cancels its waiters, so a
build stuck waiting notices the delete at once.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from types import TracebackType

from oslo_log import log as logging

from common import exception as common_exception

LOG = logging.getLogger(__name__)

VIF_PLUGGED = "network-vif-plugged"
VIF_UNPLUGGED = "network-vif-unplugged"
NETWORK_CHANGED = "network-changed"
VIF_DELETED = "network-vif-deleted"

COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"

EventKey = tuple[str, str]


class EventsCancelled(common_exception.Error):
    """The instance's waiters were cancelled (it is being deleted)."""

    msg_fmt = "Waiting for events of instance %(instance_uuid)s was cancelled."


class EventFailed(common_exception.Error):
    msg_fmt = "Event %(name)s:%(tag)s of instance %(instance_uuid)s failed."


class EventTimeout(common_exception.Error):
    msg_fmt = ("Timed out after %(timeout)s s waiting for %(events)s of instance "
               "%(instance_uuid)s.")


class _Waiter:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.status: str | None = None

    def set(self, status: str) -> None:
        if self.status is None:
            self.status = status
        self.done.set()


class InstanceEvents:
    """The waiters of every instance of one node (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, dict[EventKey, _Waiter]] = {}

    def prepare(self, instance_uuid: str, keys: Iterable[EventKey]) -> EventGroup:
        """Register waiters for ``keys`` of the instance; returns them as a group
        to ``wait`` on (use it as a context manager so leftovers are removed)."""
        waiters: dict[EventKey, _Waiter] = {}
        with self._lock:
            mine = self._waiters.setdefault(instance_uuid, {})
            for key in keys:
                waiters[key] = mine.setdefault(key, _Waiter())
        return EventGroup(self, instance_uuid, waiters)

    def deliver(self, instance_uuid: str, name: str, tag: str, status: str = COMPLETED) -> bool:
        """Release the waiter of ``(name, tag)``; False when nobody waited for it."""
        with self._lock:
            mine = self._waiters.get(instance_uuid, {})
            waiter = mine.pop((name, tag), None)
            if not mine:
                self._waiters.pop(instance_uuid, None)
        if waiter is None:
            return False
        waiter.set(FAILED if status == FAILED else COMPLETED)
        return True

    def cancel(self, instance_uuid: str) -> int:
        """Wake every waiter of the instance as cancelled; how many there were."""
        with self._lock:
            mine = self._waiters.pop(instance_uuid, {})
        for waiter in mine.values():
            waiter.set(CANCELLED)
        return len(mine)

    def pending(self, instance_uuid: str) -> list[EventKey]:
        with self._lock:
            return sorted(self._waiters.get(instance_uuid, {}))

    def _discard(self, instance_uuid: str, waiters: dict[EventKey, _Waiter]) -> None:
        with self._lock:
            mine = self._waiters.get(instance_uuid)
            if mine is None:
                return
            for key, waiter in waiters.items():
                if mine.get(key) is waiter:
                    del mine[key]
            if not mine:
                del self._waiters[instance_uuid]


class EventGroup:
    """Waiters registered together by :meth:`InstanceEvents.prepare`."""

    def __init__(self, events: InstanceEvents, instance_uuid: str,
                 waiters: dict[EventKey, _Waiter]) -> None:
        self._events = events
        self.instance_uuid = instance_uuid
        self._waiters = waiters

    def __enter__(self) -> EventGroup:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.clear()

    def clear(self) -> None:
        """Forget the waiters that were not released."""
        self._events._discard(self.instance_uuid, self._waiters)

    def wait(self, timeout: float, fatal: bool = True) -> list[EventKey]:
        """Block until every event arrived, ``timeout`` seconds at most in all.

        :returns: the keys that did not arrive (only when not ``fatal``).
        :raises: EventsCancelled always; EventTimeout and EventFailed when ``fatal``.
        """
        deadline = time.monotonic() + timeout
        missing: list[EventKey] = []
        for key, waiter in self._waiters.items():
            if not waiter.done.wait(max(0.0, deadline - time.monotonic())):
                missing.append(key)
                continue
            if waiter.status == CANCELLED:
                raise EventsCancelled(instance_uuid=self.instance_uuid)
            if waiter.status == FAILED:
                if fatal:
                    raise EventFailed(name=key[0], tag=key[1],
                                      instance_uuid=self.instance_uuid)
                LOG.warning("Event %(name)s:%(tag)s of instance %(uuid)s failed; going on",
                            {"name": key[0], "tag": key[1], "uuid": self.instance_uuid})
        if missing:
            names = ", ".join("%s:%s" % key for key in missing)
            if fatal:
                raise EventTimeout(timeout=timeout, events=names,
                                   instance_uuid=self.instance_uuid)
            LOG.warning("Timed out waiting for %(events)s of instance %(uuid)s; going on",
                        {"events": names, "uuid": self.instance_uuid})
        return missing
