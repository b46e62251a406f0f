"""The expirer: deletes objects whose ``X-Delete-At`` has passed (run by the reaper).

Each local object device keeps an index of its objects with ``X-Delete-At``
(:mod:`objectstore.obj.expiring`). For each due row the expirer sends ``DELETE`` with
``X-If-Delete-At`` (so an object whose expiry was moved or removed since is left
alone: 412) and ``X-Timestamp`` = the expiry time to every replica, naming one
container replica each (``X-Container-*``) so the listing loses the row too. The row
goes once every replica answered 2xx, 404, 409 or 412.
"""
from __future__ import annotations

import functools
import time
from typing import Any

from oslo_log import log as logging

from objectstore.common import backend
from objectstore.common.utils import Timestamp
from objectstore.daemons import base
from objectstore.obj import expiring

LOG = logging.getLogger(__name__)

#: Answers after which a replica needs nothing more from the expirer: gone (404), no
#: longer due at that time (412: its X-Delete-At changed), or overwritten later (409).
DONE_STATUSES = {404, 409, 412}


class Expirer:
    """Works with the rings, devices, stats and stop event of its daemon (the reaper)."""

    def __init__(self, daemon: Any) -> None:
        self.daemon = daemon

    def run_once(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        batch = self.daemon.conf.reaper.expirer_batch
        for dev in self.daemon.devices("object"):
            dev_path = base.device_dir(self.daemon.conf, dev["device"])
            entries = expiring.due(dev_path, now, batch)
            base.run_parallel(functools.partial(self.expire, dev_path), entries,
                              self.daemon.conf.reaper.concurrency, self.daemon.stop_event)

    def expire(self, dev_path: str, entry: expiring.Entry) -> bool:
        """Delete one due object everywhere; True (and the index row removed) when done."""
        ring = self.daemon.ring("object")
        part, nodes = ring.get_nodes(entry.account, entry.container, entry.obj)
        cpart, cnodes = self.daemon.ring("container").get_nodes(entry.account, entry.container)
        path = "/%s/%s/%s" % (entry.account, entry.container, entry.obj)
        stamp = Timestamp(entry.delete_at).internal
        done = 0
        for index, node in enumerate(nodes):
            headers = {"X-Timestamp": stamp, "X-If-Delete-At": str(entry.delete_at)}
            if cnodes:
                cnode = cnodes[index % len(cnodes)]
                headers.update({"X-Container-Host": "%s:%s" % (cnode["ip"], cnode["port"]),
                                "X-Container-Partition": str(cpart),
                                "X-Container-Device": cnode["device"]})
            if self._delete(node, part, path, headers):
                done += 1
        if done < len(nodes):
            self.daemon.stats.incr("expirer_failures")
            return False
        expiring.remove(dev_path, entry.account, entry.container, entry.obj, entry.delete_at)
        self.daemon.stats.incr("objects_expired")
        return True

    def _delete(self, node: dict[str, Any], part: int, path: str,
                headers: dict[str, str]) -> bool:
        try:
            resp = backend.node_request(node, part, "DELETE", path, headers=headers,
                                        **self.daemon.timeouts)
            try:
                resp.read()
            finally:
                resp.close()
        except backend.NODE_ERRORS as err:
            LOG.info("expirer: DELETE %s on %s:%s/%s failed: %s", path, node["ip"],
                     node["port"], node["device"], err)
            return False
        return resp.status // 100 == 2 or resp.status in DONE_STATUSES
