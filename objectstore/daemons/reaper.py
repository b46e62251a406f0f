"""The reaper: empties deleted accounts; each pass also runs the expirer.

For each local account database marked deleted (``DELETE /d/p/a``) longer than
``delay_reaping`` ago, on the device that is the account's first primary (so one node
does the work): every container of the account is listed, every object of it deleted
on all of its replicas (with the container update headers, so the container rows go
too), then the container on its replicas. The account keeps tombstone rows of its
containers, so it lists nothing any more and its replicas learn it by replication.
"""
from __future__ import annotations

import os
import time
from typing import Any, Iterator

from oslo_config import cfg
from oslo_log import log as logging

from objectstore.common import backend
from objectstore.common import db as db_mod
from objectstore.common.ring import ring as ring_mod
from objectstore.common.utils import Timestamp
from objectstore.daemons import base
from objectstore.daemons import expirer

LOG = logging.getLogger(__name__)

#: Entries asked for per listing request (containers of the account, objects of a container).
LISTING_LIMIT = 1000


def host_headers(nodes: list[dict[str, Any]], index: int, prefix: str,
                 part: int) -> dict[str, str]:
    """``X-<prefix>-Host/-Partition/-Device`` naming the ``index``-th of ``nodes``
    (round robin), the way the proxy spreads container/account updates."""
    if not nodes:
        return {}
    node = nodes[index % len(nodes)]
    return {"X-%s-Host" % prefix: "%s:%s" % (node["ip"], node["port"]),
            "X-%s-Partition" % prefix: str(part),
            "X-%s-Device" % prefix: node["device"]}


class Reaper(base.Daemon):
    name = "reaper"
    group = "reaper"

    def __init__(self, conf: cfg.ConfigOpts, **filters: Any) -> None:
        super().__init__(conf, **filters)
        self._rings: dict[str, ring_mod.Ring] = {}
        self.expirer = expirer.Expirer(self)

    def ring(self, name: str) -> ring_mod.Ring:
        if name not in self._rings:
            self._rings[name] = ring_mod.Ring(self.conf.objectstore.swift_dir, name,
                                              self.conf.objectstore.ring_check_interval)
        return self._rings[name]

    def devices(self, ring_name: str) -> list[dict[str, Any]]:
        try:
            return base.local_devices(self.conf, self.ring(ring_name), self.only_devices)
        except ring_mod.RingLoadError as err:
            LOG.warning("%s: %s", self.name, err)
            self.stats.incr("ring_errors")
            return []

    def run_once(self) -> None:
        for dev in self.devices("account"):
            for part, path in self._account_dbs(dev):
                if self.stop_event.is_set():
                    return
                try:
                    self.reap_account(dev, part, path)
                except db_mod.DatabaseError as err:
                    LOG.warning("%s: cannot read %s: %s", self.name, path, err)
                    self.stats.incr("errors")
        self.expirer.run_once()

    def _account_dbs(self, dev: dict[str, Any]) -> Iterator[tuple[int, str]]:
        root = os.path.join(base.device_dir(self.conf, dev["device"]), "accounts")
        for part, part_dir in base.walk_dirs(root):
            if not part.isdigit() or not self.partition_wanted(part):
                continue
            for _suffix, suffix_dir in base.walk_dirs(part_dir):
                for hash_, hash_dir in base.walk_dirs(suffix_dir):
                    path = os.path.join(hash_dir, hash_ + ".db")
                    if os.path.isfile(path):
                        yield int(part), path

    # -- one account ------------------------------------------------------------------

    def reap_account(self, dev: dict[str, Any], part: int, path: str) -> bool:
        """Empty one account if it is deleted, due, and ours to reap; True when it was
        emptied (or had nothing left)."""
        from objectstore.common import account_db

        broker = account_db.AccountBroker(path)
        try:
            info = broker.get_info()
            # A replica that learned the delete by replication has the timestamps
            # but not the status.
            if not broker.is_status_deleted() and \
                    Timestamp(info["delete_timestamp"]) <= Timestamp(info["put_timestamp"]):
                return False
            deleted_at = float(Timestamp(info["delete_timestamp"]))
            if time.time() - deleted_at < self.conf.reaper.delay_reaping:
                self.stats.incr("accounts_delayed")
                return False
            primaries = self.ring("account").get_part_nodes(part)
            if not primaries or base.node_key(primaries[0]) != base.node_key(dev):
                return False  # the first primary reaps; the others replicate
            account = info["account"]
            self.stats.incr("accounts_reaping")
            ok = True
            for entry in self._containers(broker):
                if self.stop_event.is_set():
                    return False
                ok = self.reap_container(account, entry, primaries, part, broker) and ok
        finally:
            broker.close()
        self.stats.incr("accounts_emptied" if ok else "accounts_unfinished")
        return ok

    @staticmethod
    def _containers(broker: Any) -> Iterator[dict[str, Any]]:
        marker = ""
        while True:
            entries = broker.list_containers(LISTING_LIMIT, marker=marker)
            for entry in entries:
                if "name" in entry:
                    yield entry
            if len(entries) < LISTING_LIMIT:
                return
            marker = entries[-1].get("name") or entries[-1].get("subdir") or ""

    def reap_container(self, account: str, entry: dict[str, Any],
                       account_nodes: list[dict[str, Any]], account_part: int,
                       broker: Any) -> bool:
        """Delete every object of a container, then the container on its replicas."""
        container = entry["name"]
        cpart, cnodes = self.ring("container").get_nodes(account, container)
        objects_ok = True
        while True:
            names = self._list_objects(account, container, cpart, cnodes)
            if names is None:
                return False
            results = [self.delete_object(account, container, name, cpart, cnodes)
                       for name in names]
            objects_ok = objects_ok and all(results)
            if len(names) < LISTING_LIMIT or not all(results):
                break
        if not objects_ok:
            return False
        stamp = Timestamp.now().internal
        successes = 0
        for index, node in enumerate(cnodes):
            headers = {"X-Timestamp": stamp}
            headers.update(host_headers(account_nodes, index, "Account", account_part))
            status = self._request(node, cpart, "DELETE", "/%s/%s" % (account, container),
                                   headers)
            successes += status is not None and (status // 100 == 2 or status == 404)
        if successes * 2 <= len(cnodes):
            self.stats.incr("container_failures")
            return False
        # The account refuses reports once deleted: record the container's end here;
        # replication carries the row to the account's other replicas.
        broker.put_container(container, Timestamp(0).internal, stamp, 0, 0)
        self.stats.incr("containers_deleted")
        return True

    def _list_objects(self, account: str, container: str, part: int,
                      nodes: list[dict[str, Any]]) -> list[str] | None:
        """The first ``LISTING_LIMIT`` object names of a container from any replica
        ([] when it is gone); None when no replica answers."""
        for node in nodes:
            try:
                resp = backend.node_request(node, part, "GET", "/%s/%s" % (account, container),
                                            query={"format": "json",
                                                   "limit": str(LISTING_LIMIT)},
                                            **self.timeouts)
                try:
                    if resp.status == 404:
                        return []
                    if resp.status // 100 != 2:
                        continue
                    listing = resp.json() or []
                finally:
                    resp.close()
            except backend.NODE_ERRORS + (ValueError,) as err:
                LOG.info("%s: listing %s/%s on %s failed: %s", self.name, account, container,
                         node["device"], err)
                continue
            return [item["name"] for item in listing if "name" in item]
        return None

    def delete_object(self, account: str, container: str, obj: str, cpart: int,
                      cnodes: list[dict[str, Any]]) -> bool:
        """DELETE an object on all its replicas (each naming one container replica)."""
        part, nodes = self.ring("object").get_nodes(account, container, obj)
        stamp = Timestamp.now().internal
        successes = 0
        for index, node in enumerate(nodes):
            headers = {"X-Timestamp": stamp}
            headers.update(host_headers(cnodes, index, "Container", cpart))
            status = self._request(node, part, "DELETE",
                                   "/%s/%s/%s" % (account, container, obj), headers)
            successes += status is not None and (status // 100 == 2 or status == 404)
        ok = successes * 2 > len(nodes)
        self.stats.incr("objects_deleted" if ok else "object_failures")
        return ok

    def _request(self, node: dict[str, Any], part: int, method: str, path: str,
                 headers: dict[str, str]) -> int | None:
        """The status of one backend request, or None when the node is unreachable."""
        try:
            resp = backend.node_request(node, part, method, path, headers=headers,
                                        **self.timeouts)
            try:
                resp.read()
            finally:
                resp.close()
        except backend.NODE_ERRORS as err:
            LOG.info("%s: %s %s on %s:%s/%s failed: %s", self.name, method, path,
                     node["ip"], node["port"], node["device"], err)
            return None
        return resp.status
