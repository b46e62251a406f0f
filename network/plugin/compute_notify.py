"""Tell compute (``os-server-external-events``) when a compute port's wiring changes.

``network-vif-plugged`` when an agent brought a port bound to a server ACTIVE (or
``failed`` when it went to ERROR), ``network-vif-unplugged`` when it went DOWN,
``network-vif-deleted`` when the port was deleted and ``network-changed`` when its
addresses or floating IPs changed. Events are batched and sent by one background
thread every ``send_events_interval`` seconds, after the transactions committed;
without a compute endpoint in the catalog (compute not deployed) they are dropped
with one log line. Sending never fails an API request or an agent's RPC call.
"""
from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from oslo_config import cfg
from oslo_log import log as logging

from network.clients import compute

LOG = logging.getLogger(__name__)

Send = Callable[[cfg.ConfigOpts, list[dict[str, Any]]], list[dict[str, Any]]]


def _server_of(port: dict[str, Any]) -> str | None:
    owner = port.get("device_owner") or ""
    device = port.get("device_id") or ""
    return device if owner.startswith("compute:") and device else None


class ComputeNotifier:
    """Queues server events and sends them in batches from one daemon thread."""

    def __init__(self, conf: cfg.ConfigOpts, send: Send = compute.send_events) -> None:
        self.conf = conf
        self._send = send
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._compute_missing = False

    def status_changed(self, port: dict[str, Any], old: str, new: str) -> None:
        """Record the event a port status change means (none for other changes)."""
        server = _server_of(port)
        if server is None or old == new or \
                not self.conf.notify_nova_on_port_status_changes:
            return
        if new == "ACTIVE":
            event = {"name": "network-vif-plugged", "status": "completed"}
        elif new == "ERROR":
            event = {"name": "network-vif-plugged", "status": "failed"}
        elif new == "DOWN" and old == "ACTIVE":
            event = {"name": "network-vif-unplugged", "status": "completed"}
        else:
            return
        self._queue(dict(event, server_uuid=server, tag=port["id"]))

    def data_changed(self, port: dict[str, Any], name: str) -> None:
        """Record ``network-changed`` or ``network-vif-deleted`` for a server's port."""
        server = _server_of(port)
        if server is not None and self.conf.notify_nova_on_port_data_changes:
            self._queue({"name": name, "server_uuid": server, "tag": port["id"]})

    def _queue(self, event: dict[str, Any]) -> None:
        with self._lock:
            self._pending.append(event)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="compute-events")
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            # Let a burst (a server with several ports) gather into one request.
            threading.Event().wait(float(self.conf.send_events_interval))
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        """Send what is queued now (the thread calls this; tests may too)."""
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            answers = self._send(self.conf, batch)
        except compute.ComputeUnavailable as err:
            if not self._compute_missing:
                LOG.info("Not sending %(n)d server events: no compute API (%(err)s); "
                         "dropping events until it answers", {"n": len(batch), "err": err})
            self._compute_missing = True
            return
        except Exception:  # never let the sender thread die
            LOG.exception("Could not send %d server events to compute", len(batch))
            return
        self._compute_missing = False
        for answer in answers:
            if answer.get("code") not in (200, None):
                LOG.debug("Compute answered %(code)s to %(name)s for server %(server)s",
                          {"code": answer.get("code"), "name": answer.get("name"),
                           "server": answer.get("server_uuid")})
        LOG.debug("Sent %d server events to compute", len(batch))


def install(core: Any, notifier: ComputeNotifier | None = None) -> ComputeNotifier:
    """Wrap ``core``'s port status setter and port writers to record server events."""
    notifier = notifier or ComputeNotifier(core.conf)
    l2 = getattr(core, "l2", None)
    if l2 is not None:
        set_status = l2.set_port_status

        @functools.wraps(set_status)
        def set_port_status(ctxt: Any, port_id: str, status: str, *args: Any,
                            **kwargs: Any) -> Any:
            result = set_status(ctxt, port_id, status, *args, **kwargs)
            port, old = result
            if port is not None:
                notifier.status_changed(port, old, port["status"])
            return result
        l2.set_port_status = set_port_status

    ports = core.ports
    update, delete = ports.update, ports.delete

    @functools.wraps(update)
    def update_port(ctxt: Any, port_id: str, body: dict[str, Any], *args: Any,
                    **kwargs: Any) -> Any:
        result = update(ctxt, port_id, body, *args, **kwargs)
        if "fixed_ips" in body:
            notifier.data_changed(result, "network-changed")
        return result

    @functools.wraps(delete)
    def delete_port(ctxt: Any, port_id: str, *args: Any, **kwargs: Any) -> Any:
        # None when gone or invisible: the delete itself answers that.
        port = ports.device_of(ctxt, port_id)
        result = delete(ctxt, port_id, *args, **kwargs)
        if port is not None:
            notifier.data_changed(port, "network-vif-deleted")
        return result

    ports.update, ports.delete = update_port, delete_port
    fips = core.floatingips
    fip_update = fips.update

    @functools.wraps(fip_update)
    def update_fip(ctxt: Any, fip_id: str, body: dict[str, Any], *args: Any,
                   **kwargs: Any) -> Any:
        before = fips.get(ctxt, fip_id).get("port_id")
        result = fip_update(ctxt, fip_id, body, *args, **kwargs)
        for port_id in {before, result.get("port_id")} - {None}:
            try:
                notifier.data_changed(ports.get(ctxt, port_id), "network-changed")
            except Exception:  # the port went away meanwhile: nothing to tell
                LOG.debug("Port %s gone before its network-changed event", port_id)
        return result

    fips.update = update_fip
    return notifier
