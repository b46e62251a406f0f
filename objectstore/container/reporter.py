"""Reports of a container's stats to its account (``PUT /d/p/a/c`` on the account
server): synchronously after a container PUT/DELETE, and debounced in a background
thread after object rows change."""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Mapping

from objectstore.common import backend, container_db

LOG = logging.getLogger(__name__)


def account_nodes(host: str, partition: str, device: str) -> list[tuple[str, int, str, str]]:
    """``(ip, port, device, partition)`` of the ``X-Account-Host``/``-Partition``/
    ``-Device`` values (comma separated when several; one partition may serve all).

    :raises ValueError: when the values do not pair up or a host has no port.
    """
    hosts = [h.strip() for h in host.split(",") if h.strip()]
    devices = [d.strip() for d in device.split(",") if d.strip()]
    partitions = [p.strip() for p in partition.split(",") if p.strip()]
    if len(partitions) == 1:
        partitions *= len(hosts)
    if not hosts or len(hosts) != len(devices) or len(hosts) != len(partitions):
        raise ValueError("X-Account-Host/Partition/Device do not pair up")
    nodes = []
    for one, dev, part in zip(hosts, devices, partitions, strict=True):
        ip, _, port = one.rpartition(":")
        nodes.append((ip.strip("[]"), int(port), dev, part))
    return nodes


def report_headers(info: Mapping[str, Any]) -> dict[str, str]:
    return {
        "X-Put-Timestamp": info["put_timestamp"],
        "X-Delete-Timestamp": info["delete_timestamp"],
        "X-Object-Count": str(info["object_count"]),
        "X-Bytes-Used": str(info["bytes_used"]),
        "X-Timestamp": max(info["put_timestamp"], info["delete_timestamp"]),
    }


def send_report(broker: container_db.ContainerBroker,
                nodes: list[tuple[str, int, str, str]], conn_timeout: float,
                node_timeout: float) -> list[int | None]:
    """Send the broker's current stats to every account node; a majority of 2xx
    answers marks them reported.

    :returns: the status of each node (None when it could not be reached).
    """
    info = broker.get_info()
    headers = report_headers(info)
    statuses: list[int | None] = []
    for ip, port, device, partition in nodes:
        try:
            resp = backend.request(ip, port, device, partition, "PUT",
                                   "/%s/%s" % (info["account"], info["container"]),
                                   headers=headers, conn_timeout=conn_timeout,
                                   node_timeout=node_timeout)
            resp.read()
            resp.close()
            statuses.append(resp.status)
        except backend.NODE_ERRORS as exc:
            LOG.warning("Account update to %(ip)s:%(port)s failed: %(exc)s",
                        {"ip": ip, "port": port, "exc": exc})
            statuses.append(None)
    successes = sum(1 for s in statuses if s is not None and 200 <= s < 300)
    if successes * 2 > len(statuses):
        broker.reported(info["put_timestamp"], info["delete_timestamp"],
                        info["object_count"], info["bytes_used"])
    return statuses


class AccountReporter:
    """Debounced background reports: after :meth:`schedule`, the container's stats
    reach the account within ``interval`` seconds, and at most once per interval
    per container however many objects change meanwhile."""

    def __init__(self, interval: float, conn_timeout: float, node_timeout: float,
                 busy_timeout: float = 25.0) -> None:
        self.interval = interval
        self.conn_timeout = conn_timeout
        self.node_timeout = node_timeout
        self.busy_timeout = busy_timeout
        self._due: dict[str, float] = {}
        self._last: dict[str, float] = {}
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def schedule(self, db_path: str) -> None:
        """Ask for a report of the container database at ``db_path``."""
        with self._cond:
            if self._stopped or db_path in self._due:
                return
            now = time.monotonic()
            self._due[db_path] = max(now, self._last.get(db_path, 0.0) + self.interval)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="account-reporter",
                                                daemon=True)
                self._thread.start()
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _next(self) -> str | None:
        """Wait for the next due report; None once stopped."""
        with self._cond:
            while not self._stopped:
                now = time.monotonic()
                if self._due:
                    path, due = min(self._due.items(), key=lambda item: item[1])
                    if due <= now:
                        del self._due[path]
                        self._last[path] = now
                        self._forget_old(now)
                        return path
                    self._cond.wait(due - now)
                else:
                    self._cond.wait()
            return None

    def _forget_old(self, now: float) -> None:
        for path in [p for p, t in self._last.items() if now - t > self.interval]:
            del self._last[path]

    def _run(self) -> None:
        while True:
            path = self._next()
            if path is None:
                return
            try:
                self.report(path)
            except Exception:
                LOG.exception("Background account update of %(path)s failed", {"path": path})

    def report(self, db_path: str) -> None:
        """Report one container now, if it has an account location and news."""
        broker = container_db.ContainerBroker(db_path, timeout=self.busy_timeout)
        try:
            if not broker.exists() or not broker.needs_report():
                return
            info = broker.get_info()
            if not info["account_host"]:
                return  # never told where the account lives: the updater uses the ring
            nodes = account_nodes(info["account_host"], info["account_partition"],
                                  info["account_device"])
            send_report(broker, nodes, self.conn_timeout, self.node_timeout)
        finally:
            broker.close()
