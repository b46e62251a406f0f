"""Replication of account and container databases (README.md, "Backend protocol").

For each database on a local device and each other primary of its partition:
``REPLICATE ["sync", info]`` tells the remote our timestamps and metadata (it merges
them) and answers how far it has our rows. A remote without the database (404) gets
the whole file (``PUT`` with ``X-Backend-Replication``); otherwise the rows after its
sync point go in batches (``merge_items``), then our incoming sync points
(``merge_syncs``) so it learns what it now holds of the third replicas. A database on
a device that is not one of its primaries (a handoff) is removed once every primary
has it. Deleted rows older than ``reclaim_age`` are dropped first.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from typing import Any, Iterator

from oslo_config import cfg
from oslo_log import log as logging

from objectstore.common import backend
from objectstore.common import db as db_mod
from objectstore.common.ring import ring as ring_mod
from objectstore.common.utils import Timestamp
from objectstore.daemons import base

LOG = logging.getLogger(__name__)


class DBReplicator(base.Daemon):
    """Replicates the databases of one kind (``account`` or ``container``)."""

    group = "replicator"
    kind = ""

    def __init__(self, conf: cfg.ConfigOpts, **filters: Any) -> None:
        super().__init__(conf, **filters)
        self._ring: ring_mod.Ring | None = None

    @property
    def ring(self) -> ring_mod.Ring:
        if self._ring is None:
            self._ring = ring_mod.Ring(self.conf.objectstore.swift_dir, self.kind,
                                       self.conf.objectstore.ring_check_interval)
        return self._ring

    def make_broker(self, path: str) -> db_mod.DatabaseBroker:
        raise NotImplementedError

    # -- the pass ----------------------------------------------------------------

    def run_once(self) -> None:
        try:
            devices = base.local_devices(self.conf, self.ring, self.only_devices)
        except ring_mod.RingLoadError as err:
            LOG.warning("%s: %s", self.name, err)
            self.stats.incr("ring_errors")
            return
        jobs = [(dev, part, path) for dev in devices for part, path in self.databases(dev)]
        base.run_parallel(self.replicate_job, jobs, self.conf.replicator.concurrency,
                          self.stop_event)

    def databases(self, dev: dict[str, Any]) -> Iterator[tuple[int, str]]:
        """``(partition, path)`` of every database file on ``dev``."""
        root = os.path.join(base.device_dir(self.conf, dev["device"]), self.kind + "s")
        for part, part_dir in base.walk_dirs(root):
            if not part.isdigit() or not self.partition_wanted(part):
                continue
            for _suffix, suffix_dir in base.walk_dirs(part_dir):
                for hash_, hash_dir in base.walk_dirs(suffix_dir):
                    path = os.path.join(hash_dir, hash_ + ".db")
                    if os.path.isfile(path):
                        yield int(part), path

    def replicate_job(self, job: tuple[dict[str, Any], int, str]) -> None:
        dev, part, path = job
        self.replicate_db(dev, part, path)

    def replicate_db(self, dev: dict[str, Any], part: int, path: str) -> bool:
        """Replicate one database; True when every target took it (a handoff is then
        removed)."""
        self.stats.incr("attempted")
        broker = self.make_broker(path)
        try:
            self._reclaim(broker)
            info = broker.get_replication_info()
            primaries = self.ring.get_part_nodes(part)
            is_primary = any(base.node_key(n) == base.node_key(dev) for n in primaries)
            targets = [n for n in primaries if base.node_key(n) != base.node_key(dev)]
            results = [self._sync_with(broker, info, node, part) for node in targets]
        except db_mod.DatabaseError as err:
            LOG.warning("%s: cannot replicate %s: %s", self.name, path, err)
            self.stats.incr("failures")
            return False
        except Exception:
            LOG.exception("%s: cannot replicate %s", self.name, path)
            self.stats.incr("failures")
            return False
        finally:
            broker.close()
        ok = all(results)
        self.stats.incr("success" if ok else "failures")
        if ok and not is_primary:
            shutil.rmtree(os.path.dirname(path), ignore_errors=True)
            self.stats.incr("removed_handoffs")
        return ok

    def _reclaim(self, broker: db_mod.DatabaseBroker) -> None:
        age = Timestamp(max(0.0, time.time() - self.conf.replicator.reclaim_age))
        dropped = broker.reclaim(age.internal)
        if dropped:
            self.stats.incr("reclaimed_rows", dropped)

    # -- one remote ----------------------------------------------------------------

    def _replicate(self, node: dict[str, Any], part: int, hash_: str,
                   payload: Any) -> backend.Response:
        body = json.dumps(payload).encode()
        return backend.node_request(node, part, "REPLICATE", "/" + hash_, body=body,
                                    headers={"Content-Type": "application/json"},
                                    **self.timeouts)

    def _sync_with(self, broker: db_mod.DatabaseBroker, info: dict[str, Any],
                   node: dict[str, Any], part: int) -> bool:
        hash_ = os.path.basename(os.path.dirname(broker.path))
        try:
            resp = self._replicate(node, part, hash_, ["sync", info])
            try:
                status, answer = resp.status, resp.json() if resp.status // 100 == 2 else None
            finally:
                resp.close()
            if status == 404:
                return self._push_whole(broker, node, part, hash_, info)
            if status // 100 != 2 or not isinstance(answer, dict):
                LOG.warning("%s: sync of %s with %s:%s/%s answered %s", self.name, hash_,
                            node["ip"], node["port"], node["device"], status)
                return False
            if answer.get("hash") == info["hash"] or \
                    int(answer.get("point", -1)) >= info["max_row"]:
                # Same rows (the hash covers every row), or it has all of ours.
                self.stats.incr("no_change")
                return True
            return self._push_rows(broker, node, part, hash_, info,
                                   int(answer.get("point", -1)))
        except backend.NODE_ERRORS as err:
            LOG.warning("%s: %s:%s/%s unreachable: %s", self.name, node["ip"], node["port"],
                        node["device"], err)
            return False

    def _push_rows(self, broker: db_mod.DatabaseBroker, node: dict[str, Any], part: int,
                   hash_: str, info: dict[str, Any], point: int) -> bool:
        """Send our rows after ``point`` in ``per_diff`` batches, then our sync points."""
        per_diff = self.conf.replicator.per_diff
        while True:
            rows = broker.get_items_since(point, per_diff)
            if not rows:
                break
            if not self._ok(self._replicate(node, part, hash_,
                                            ["merge_items", rows, info["id"]])):
                return False
            self.stats.incr("rows_sent", len(rows))
            point = int(rows[-1]["ROWID"])
            if len(rows) < per_diff:
                break
        syncs = broker.get_syncs(incoming=True)
        syncs.append({"remote_id": info["id"], "sync_point": point})
        if not self._ok(self._replicate(node, part, hash_, ["merge_syncs", syncs])):
            return False
        self.stats.incr("diffs")
        return True

    def _push_whole(self, broker: db_mod.DatabaseBroker, node: dict[str, Any], part: int,
                    hash_: str, info: dict[str, Any]) -> bool:
        """``PUT /dev/part/<hash>`` with the database file (a consistent snapshot)."""
        os.makedirs(broker.tmp_dir, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".db", dir=broker.tmp_dir)
        os.close(fd)
        try:
            os.unlink(tmp)  # sqlite's backup makes the file itself
            broker.snapshot(tmp)
            with open(tmp, "rb") as handle:
                body = handle.read()
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        headers = {"X-Backend-Replication": "true",
                   "X-Timestamp": info["put_timestamp"],
                   "Content-Type": "application/octet-stream"}
        ok = self._ok(backend.node_request(node, part, "PUT", "/" + hash_, headers=headers,
                                           body=body, **self.timeouts))
        if ok:
            self.stats.incr("whole_pushes")
        return ok

    @staticmethod
    def _ok(resp: backend.Response) -> bool:
        try:
            resp.read()
            return resp.status // 100 == 2
        finally:
            resp.close()


class ContainerReplicator(DBReplicator):
    name = "container-replicator"
    kind = "container"

    def make_broker(self, path: str) -> db_mod.DatabaseBroker:
        from objectstore.common import container_db

        return container_db.ContainerBroker(path)


class AccountReplicator(DBReplicator):
    name = "account-replicator"
    kind = "account"

    def make_broker(self, path: str) -> db_mod.DatabaseBroker:
        from objectstore.common import account_db

        return account_db.AccountBroker(path)
