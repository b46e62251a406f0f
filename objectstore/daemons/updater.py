"""The updater: delivers late container updates and container reports.

1. ``async_pending`` (README.md, "On disk"): each file is a container row change an
   object server could not deliver. It is sent to every primary of the container
   (container ring); the nodes that took it are written back into the file
   (``"successes"``), so a later pass only retries the others, and the file goes
   when all did. Of several files of one object only the newest matters (the
   container keeps the newest row anyway): the older ones are dropped.
2. The container → account sweep: a local container database whose counts or
   timestamps differ from what the account last acknowledged (``reported_*``) is
   reported to the account's primaries (account ring); on a majority of 2xx the
   database records ``reported(...)``.
"""
from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Iterator

from oslo_config import cfg
from oslo_log import log as logging

from objectstore.common import backend
from objectstore.common import db as db_mod
from objectstore.common.ring import ring as ring_mod
from objectstore.daemons import base

LOG = logging.getLogger(__name__)

ASYNC_DIR = "async_pending"


def pending_files(dev_path: str) -> Iterator[str]:
    """The async pending files of a device, newest of each object only (older files
    of the same object are removed: the newest row change wins on the container)."""
    root = os.path.join(dev_path, ASYNC_DIR)
    for _suffix, suffix_dir in base.walk_dirs(root):
        newest: dict[str, tuple[str, str]] = {}
        for name in sorted(os.listdir(suffix_dir)):
            obj_hash, sep, stamp = name.partition("-")
            if not sep:
                continue
            path = os.path.join(suffix_dir, name)
            old = newest.get(obj_hash)
            if old is not None and _stamp_key(old[1]) > _stamp_key(stamp):
                _unlink(path)
                continue
            if old is not None:
                _unlink(old[0])
            newest[obj_hash] = (path, stamp)
        for path, _stamp in newest.values():
            yield path
        try:
            os.rmdir(suffix_dir)  # only succeeds when empty
        except OSError:
            pass


def _stamp_key(stamp: str) -> tuple[float, int]:
    base_, _, offset = stamp.partition("_")
    try:
        return float(base_), int(offset or "0", 16)
    except ValueError:
        return 0.0, 0


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _rewrite(path: str, update: dict[str, Any]) -> None:
    """Write the pending file again (atomically) with its progress."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    with os.fdopen(fd, "w") as handle:
        json.dump(update, handle, sort_keys=True)
    os.rename(tmp, path)


class Updater(base.Daemon):
    name = "updater"
    group = "updater"

    def __init__(self, conf: cfg.ConfigOpts, **filters: Any) -> None:
        super().__init__(conf, **filters)
        self._rings: dict[str, ring_mod.Ring] = {}

    def ring(self, name: str) -> ring_mod.Ring:
        if name not in self._rings:
            self._rings[name] = ring_mod.Ring(self.conf.objectstore.swift_dir, name,
                                              self.conf.objectstore.ring_check_interval)
        return self._rings[name]

    def _devices(self, ring_name: str) -> list[dict[str, Any]]:
        try:
            return base.local_devices(self.conf, self.ring(ring_name), self.only_devices)
        except ring_mod.RingLoadError as err:
            LOG.warning("%s: %s", self.name, err)
            self.stats.incr("ring_errors")
            return []

    def run_once(self) -> None:
        concurrency = self.conf.updater.concurrency
        files = [path for dev in self._devices("object")
                 for path in pending_files(base.device_dir(self.conf, dev["device"]))]
        base.run_parallel(self.process_pending, files, concurrency, self.stop_event)
        dbs = [path for dev in self._devices("container") for path in self._container_dbs(dev)]
        base.run_parallel(self.report_container, dbs, concurrency, self.stop_event)

    # -- async pendings -----------------------------------------------------------

    def process_pending(self, path: str) -> bool:
        """Send one async pending to the container's primaries; True when it is done
        (and the file removed)."""
        try:
            with open(path) as handle:
                update = json.load(handle)
            op, account = update["op"], update["account"]
            container, obj = update["container"], update["obj"]
            headers = dict(update.get("headers") or {})
        except FileNotFoundError:
            return True
        except (OSError, ValueError, KeyError, TypeError) as err:
            LOG.error("%s: unreadable async pending %s (%s); removed", self.name, path, err)
            _unlink(path)
            self.stats.incr("pending_unreadable")
            return False
        part, nodes = self.ring("container").get_nodes(account, container)
        done = set(update.get("successes") or [])
        for node in nodes:
            if node["id"] in done:
                continue
            if self._send(node, part, op, "/%s/%s/%s" % (account, container, obj), headers):
                done.add(node["id"])
        if all(node["id"] in done for node in nodes):
            _unlink(path)
            self.stats.incr("pending_delivered")
            return True
        if done != set(update.get("successes") or []):
            update["successes"] = sorted(done)
            _rewrite(path, update)
        self.stats.incr("pending_failed")
        return False

    def _send(self, node: dict[str, Any], part: int, method: str, path: str,
              headers: dict[str, str]) -> bool:
        try:
            resp = backend.node_request(node, part, method, path, headers=headers,
                                        **self.timeouts)
            try:
                resp.read()
            finally:
                resp.close()
        except backend.NODE_ERRORS as err:
            LOG.info("%s: %s %s to %s:%s/%s failed: %s", self.name, method, path,
                     node["ip"], node["port"], node["device"], err)
            return False
        return resp.status // 100 == 2

    # -- container -> account reports -----------------------------------------------

    def _container_dbs(self, dev: dict[str, Any]) -> Iterator[str]:
        root = os.path.join(base.device_dir(self.conf, dev["device"]), "containers")
        for part, part_dir in base.walk_dirs(root):
            if not self.partition_wanted(part):
                continue
            for _suffix, suffix_dir in base.walk_dirs(part_dir):
                for hash_, hash_dir in base.walk_dirs(suffix_dir):
                    path = os.path.join(hash_dir, hash_ + ".db")
                    if os.path.isfile(path):
                        yield path

    def report_container(self, path: str) -> bool:
        """Report one container's stats to its account if they changed; True when the
        account now has them."""
        from objectstore.common import container_db

        broker = container_db.ContainerBroker(path)
        try:
            if not broker.needs_report():
                return True
            info = broker.get_info()
        except db_mod.DatabaseError as err:
            LOG.warning("%s: cannot read %s: %s", self.name, path, err)
            return False
        finally:
            broker.close()
        headers = {"X-Put-Timestamp": info["put_timestamp"],
                   "X-Delete-Timestamp": info["delete_timestamp"],
                   "X-Object-Count": str(info["object_count"]),
                   "X-Bytes-Used": str(info["bytes_used"]),
                   "X-Timestamp": info["put_timestamp"]}
        account, container = info["account"], info["container"]
        part, nodes = self.ring("account").get_nodes(account)
        path_ = "/%s/%s" % (account, container)
        successes = sum(self._send(node, part, "PUT", path_, headers) for node in nodes)
        if successes * 2 <= len(nodes):
            self.stats.incr("reports_failed")
            return False
        try:
            broker.reported(info["put_timestamp"], info["delete_timestamp"],
                            info["object_count"], info["bytes_used"])
        finally:
            broker.close()
        self.stats.incr("reports_sent")
        return True
