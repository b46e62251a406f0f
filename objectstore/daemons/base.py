"""What every object store daemon shares: the periodic loop, pass statistics, the
devices of this host, a small thread pool and a rate limiter.

A daemon does its work in passes (:meth:`Daemon.run_once`). ``--once`` runs one pass;
otherwise passes repeat every ``interval`` seconds until :meth:`Daemon.stop`.
"""
from __future__ import annotations

import collections
import concurrent.futures
import os
import socket
import sys
import threading
import time
from typing import Any, Callable, Iterable, Iterator, Mapping, TypeVar

from oslo_config import cfg
from oslo_log import log as logging

from objectstore.common import utils

LOG = logging.getLogger(__name__)

T = TypeVar("T")


class Stats:
    """Thread-safe counters of one pass (logged when the pass ends)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: collections.Counter[str] = collections.Counter()

    def incr(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self.counts[name] += amount

    def __getitem__(self, name: str) -> int:
        return self.counts[name]

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)


def local_ips() -> set[str]:
    """Every address of this host: loopback, the hostname's, and the interfaces' (from
    /proc on Linux, where the kernel lists its local IPv4 and IPv6 addresses)."""
    ips = {"127.0.0.1", "::1"}
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            ips.add(str(info[4][0]))
    except OSError:
        pass
    ips.update(_proc_ipv4())
    ips.update(_proc_ipv6())
    return ips


def _proc_ipv4() -> set[str]:
    """Local addresses from /proc/net/fib_trie (lines ``|-- a.b.c.d`` before ``/32 host LOCAL``)."""
    found: set[str] = set()
    try:
        with open("/proc/net/fib_trie") as f:
            lines = f.read().splitlines()
    except OSError:
        return found
    for prev, line in zip(lines, lines[1:], strict=False):
        if "/32 host LOCAL" in line and "|--" in prev:
            found.add(prev.split("|--")[1].strip())
    return found


def _proc_ipv6() -> set[str]:
    found: set[str] = set()
    try:
        with open("/proc/net/if_inet6") as f:
            for line in f:
                raw = line.split()[0]
                packed = bytes.fromhex(raw)
                found.add(socket.inet_ntop(socket.AF_INET6, packed))
    except (OSError, ValueError, IndexError):
        pass
    return found


def device_dir(conf: cfg.ConfigOpts, device: str) -> str:
    return os.path.join(conf.objectstore.devices, device)


def device_usable(conf: cfg.ConfigOpts, device: str) -> bool:
    """The device's directory exists (and is a mount point when ``mount_check`` is on)."""
    path = device_dir(conf, device)
    if not os.path.isdir(path):
        return False
    return not conf.objectstore.mount_check or os.path.ismount(path)


def local_devices(conf: cfg.ConfigOpts, ring: Any,
                  only: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The ring devices this host serves.

    A device is local when its ip is ``[daemons] my_ip`` (or, unset, one of this host's
    addresses) and its directory is usable under ``[objectstore] devices``; ``only``
    (``--devices``) or ``[daemons] devices`` narrow the list by name. Several devices of
    one ring may share a name on different hosts, so each device appears once per id.
    """
    wanted = set(only or ()) or set(conf.daemons.devices or ())
    ips = {conf.daemons.my_ip} if conf.daemons.my_ip else local_ips()
    found: dict[Any, dict[str, Any]] = {}
    for dev in ring.devs:
        if not dev or dev.get("ip") not in ips:
            continue
        if wanted and dev["device"] not in wanted:
            continue
        if dev["device"] in {d["device"] for d in found.values()}:
            continue  # one directory per name on this host
        if device_usable(conf, dev["device"]):
            found[dev["id"]] = dev
    return list(found.values())


def run_parallel(func: Callable[[T], Any], items: Iterable[T], concurrency: int,
                 stop: threading.Event | None = None) -> None:
    """Call ``func`` on every item with up to ``concurrency`` threads.

    An exception of one item is logged and does not stop the others; a set ``stop``
    event skips the items not started yet.
    """
    def guarded(item: T) -> None:
        if stop is not None and stop.is_set():
            return
        try:
            func(item)
        except Exception:  # the boundary of one unit of work
            LOG.exception("Error while handling %s", item)

    if concurrency <= 1:
        for item in items:
            guarded(item)
        return
    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        for _ in pool.map(guarded, items):
            pass


class RateLimiter:
    """Keeps a rate of units per second by sleeping (on the stop event, so a stop is
    not delayed). ``rate`` 0 means no limit."""

    def __init__(self, rate: float, stop: threading.Event | None = None) -> None:
        self.rate = float(rate)
        self.stop = stop or threading.Event()
        self._start = time.monotonic()
        self._done = 0.0

    def wait(self, units: float = 1.0) -> None:
        if self.rate <= 0:
            return
        self._done += units
        ahead = self._done / self.rate - (time.monotonic() - self._start)
        if ahead > 0:
            self.stop.wait(ahead)


class Daemon:
    """A periodic daemon. Subclasses set ``name`` and ``group`` (the conf group holding
    ``interval``) and implement :meth:`run_once`, counting in ``self.stats``."""

    name = "daemon"
    group = "daemons"

    def __init__(self, conf: cfg.ConfigOpts, only_devices: Iterable[str] | None = None,
                 only_partitions: Iterable[int | str] | None = None) -> None:
        self.conf = conf
        self.only_devices = [d for d in (only_devices or ()) if d]
        self.only_partitions = {int(p) for p in (only_partitions or ()) if str(p) != ""}
        self.stop_event = threading.Event()
        self.stats = Stats()
        self.passes = 0
        utils.set_hash_path_salt(conf.objectstore.hash_path_prefix,
                                 conf.objectstore.hash_path_suffix)

    @property
    def interval(self) -> float:
        return float(getattr(self.conf, self.group).interval)

    @property
    def timeouts(self) -> dict[str, float]:
        """``conn_timeout``/``node_timeout`` for :mod:`objectstore.common.backend` calls."""
        return {"conn_timeout": self.conf.daemons.conn_timeout,
                "node_timeout": self.conf.daemons.node_timeout}

    def partition_wanted(self, partition: int | str) -> bool:
        try:
            return not self.only_partitions or int(partition) in self.only_partitions
        except ValueError:
            return False

    def run_once(self) -> None:
        raise NotImplementedError

    def run_pass(self) -> dict[str, int]:
        """One pass with fresh statistics; logs them and returns them."""
        self.stats = Stats()
        started = time.monotonic()
        try:
            self.run_once()
        except Exception:  # one broken pass must not end the daemon
            LOG.exception("%s: pass failed", self.name)
            self.stats.incr("pass_errors")
        self.passes += 1
        stats = self.stats.as_dict()
        LOG.info("%(name)s: pass done in %(secs).2fs: %(stats)s",
                 {"name": self.name, "secs": time.monotonic() - started,
                  "stats": ", ".join("%s=%s" % kv for kv in sorted(stats.items())) or "idle"})
        return stats

    def run_forever(self) -> None:
        """Passes every ``interval`` seconds (measured start to start) until stopped."""
        while not self.stop_event.is_set():
            started = time.monotonic()
            self.run_pass()
            self.stop_event.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def run(self, once: bool = False) -> None:
        if once:
            self.run_pass()
        else:
            self.run_forever()

    def stop(self) -> None:
        self.stop_event.set()


def cli_filters(conf: cfg.ConfigOpts) -> dict[str, Any]:
    """The ``--devices``/``--partitions`` switches as keyword arguments of a Daemon."""
    return {"only_devices": list(getattr(conf, "only_devices", None) or []),
            "only_partitions": list(getattr(conf, "only_partitions", None) or [])}


def serve(daemons: list[Daemon], once: bool) -> None:
    """The body of a console script: one pass of each daemon, or run them until
    SIGTERM/SIGINT."""
    from common import service

    if once:
        for daemon in daemons:
            daemon.run_pass()
        return
    threads = []
    for daemon in daemons:
        thread = threading.Thread(target=daemon.run_forever, name=daemon.name, daemon=True)
        thread.start()
        threads.append(thread)
    LOG.info("%(names)s started (pid %(pid)s)",
             {"names": ", ".join(d.name for d in daemons), "pid": os.getpid()})
    launcher = service.Launcher()
    for daemon, thread in zip(daemons, threads, strict=True):
        launcher.add(_stopper(daemon, thread))
    launcher.wait()
    sys.exit(0)


def _stopper(daemon: Daemon, thread: threading.Thread) -> Callable[[], None]:
    def stop() -> None:
        daemon.stop()
        thread.join(timeout=15)
    return stop


def walk_dirs(path: str) -> Iterator[tuple[str, str]]:
    """``(name, full path)`` of the subdirectories of ``path`` (none if it is missing)."""
    try:
        names = sorted(os.listdir(path))
    except OSError:
        return
    for name in names:
        full = os.path.join(path, name)
        if os.path.isdir(full):
            yield name, full


def node_key(node: Mapping[str, Any]) -> Any:
    """What identifies a ring device (its id)."""
    return node.get("id", (node.get("ip"), node.get("port"), node.get("device")))
