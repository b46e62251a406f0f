"""Object replication: makes every primary of a partition hold the newest files.

Per partition of a local device (README.md, "Backend protocol"):

1. Tombstones older than ``reclaim_age`` are removed (never pushed).
2. Targets: the other primaries when this device is a primary; every primary when
   it is not (handoff data, e.g. written while a primary was down).
3. Per target: ``REPLICATE /dev/part`` gives its suffix hashes; the suffixes that
   differ from ours are listed (``REPLICATE`` with ``{"list": [...]}``) and every
   file the target lacks or holds older is pushed with ``X-Backend-Replication``
   (``.data`` as PUT with its body, ``.ts`` as DELETE, ``.meta`` as POST); then
   ``REPLICATE /dev/part/suf1-suf2`` makes the target rehash those suffixes.
4. A handoff partition is removed once every primary took everything (that is how
   handoff data moves back), unless it changed meanwhile.

Only every ``[replicator] full_pass_every`` passes (and the first) does this for every
partition. In the passes between, a primary partition whose local suffix hashes are
what they were when it last synced completely with the same other primaries is
skipped: nothing here changed, so there is nothing to push (tombstones are reclaimed
in the full passes too). A remote replica that lost files on its own is filled again
by the next full pass.
"""
from __future__ import annotations

import json
import os
import shutil
from typing import Any, Mapping

from oslo_config import cfg
from oslo_log import log as logging

from objectstore.common import backend
from objectstore.common.ring import ring as ring_mod
from objectstore.common.utils import Timestamp
from objectstore.daemons import base
from objectstore.obj import hashes as hashes_mod
from objectstore.obj import ondisk

LOG = logging.getLogger(__name__)

#: Bytes per chunk when streaming a .data file to a remote.
CHUNK = 65536


def _newest(*stamps: str | None) -> Timestamp | None:
    """The newest of some timestamps (None ones ignored)."""
    found = [Timestamp(s) for s in stamps if s]
    return max(found) if found else None


def files_to_push(local: ondisk.OnDisk, remote: Mapping[str, Any] | None) -> list[str]:
    """The local files (paths) a remote whose inventory entry is ``remote`` lacks or
    holds older, in the order to send them (the .data before its .meta)."""
    remote = remote or {}
    remote_state = _newest(remote.get("data"), remote.get("ts"))
    push: list[str] = []
    if local.ts:
        if remote_state is None or ondisk.file_timestamp(local.ts) > remote_state:
            push.append(local.ts)
        return push
    if local.data:
        data_ts = ondisk.file_timestamp(local.data)
        if remote_state is None or data_ts > remote_state:
            push.append(local.data)
            remote_state = data_ts
    if local.meta:
        meta_ts = ondisk.file_timestamp(local.meta)
        remote_meta = _newest(remote.get("meta"))
        fresher_than_state = remote_state is not None and meta_ts > remote_state
        if fresher_than_state and (remote_meta is None or meta_ts > remote_meta):
            push.append(local.meta)
    return push


class ObjectReplicator(base.Daemon):
    name = "object-replicator"
    group = "replicator"

    def __init__(self, conf: cfg.ConfigOpts, **filters: Any) -> None:
        super().__init__(conf, **filters)
        self._ring: ring_mod.Ring | None = None
        #: (device, partition) -> (local suffix hashes, other primaries) at the last
        #: complete sync of a primary partition
        self._in_sync: dict[tuple[str, int], tuple[dict[str, str], tuple[str, ...]]] = {}
        self._full = True

    @property
    def ring(self) -> ring_mod.Ring:
        if self._ring is None:
            self._ring = ring_mod.Ring(self.conf.objectstore.swift_dir, "object",
                                       self.conf.objectstore.ring_check_interval)
        return self._ring

    @property
    def reclaim_age(self) -> int:
        return int(self.conf.replicator.reclaim_age)

    # -- the pass ----------------------------------------------------------------

    def run_once(self) -> None:
        self._full = self.passes % self.conf.replicator.full_pass_every == 0
        if self._full:
            self._in_sync.clear()  # every partition is looked at again (and gone ones go)
        try:
            devices = base.local_devices(self.conf, self.ring, self.only_devices)
        except ring_mod.RingLoadError as err:
            LOG.warning("%s: %s", self.name, err)
            self.stats.incr("ring_errors")
            return
        jobs = []
        for dev in devices:
            dev_path = base.device_dir(self.conf, dev["device"])
            for part in hashes_mod.list_partitions(dev_path):
                if self.partition_wanted(part):
                    jobs.append((dev, int(part)))
        base.run_parallel(self.replicate_job, jobs, self.conf.replicator.concurrency,
                          self.stop_event)

    def replicate_job(self, job: tuple[dict[str, Any], int]) -> None:
        self.replicate_partition(*job)

    def replicate_partition(self, dev: dict[str, Any], part: int) -> bool:
        """Replicate one partition of a local device; True when every target is in
        sync (a handoff partition is then removed)."""
        self.stats.incr("partitions")
        dev_path = base.device_dir(self.conf, dev["device"])
        if self._full:
            self.reclaim_tombstones(dev_path, part)
        local = hashes_mod.get_hashes(dev_path, part, reclaim_age=self.reclaim_age)
        primaries = self.ring.get_part_nodes(part)
        is_primary = any(base.node_key(n) == base.node_key(dev) for n in primaries)
        targets = [n for n in primaries if base.node_key(n) != base.node_key(dev)]
        key = (str(base.node_key(dev)), part)
        state = (dict(local), tuple(sorted(str(base.node_key(n)) for n in targets)))
        if not self._full and is_primary and self._in_sync.get(key) == state:
            self.stats.incr("skipped")
            return True
        results = [self.sync_with(dev_path, part, local, node) for node in targets]
        ok = all(results)
        self.stats.incr("success" if ok else "failures")
        if ok and is_primary:
            # what we hold now (sync_with may have rehashed), as the others have it
            self._in_sync[key] = (dict(local), state[1])
        else:
            self._in_sync.pop(key, None)
        if not is_primary:
            self.stats.incr("handoff_partitions")
            if ok:
                self._remove_handoff(dev_path, part, local)
        return ok

    def reclaim_tombstones(self, dev_path: str, part: int) -> None:
        """Remove tombstones older than ``reclaim_age`` and rehash their suffixes."""
        touched: set[str] = set()
        for _part, suffix, _hash, hash_dir in hashes_mod.iter_hash_dirs(dev_path, [str(part)]):
            files = ondisk.gather_files(hash_dir, self.reclaim_age)
            if files.obsolete:
                ondisk.cleanup_hash_dir(hash_dir, self.reclaim_age)
                touched.add(suffix)
                self.stats.incr("reclaimed", len(files.obsolete))
        if touched:
            hashes_mod.get_hashes(dev_path, part, recalculate=sorted(touched),
                                  reclaim_age=self.reclaim_age)

    def _remove_handoff(self, dev_path: str, part: int, synced: dict[str, str]) -> None:
        """Delete a handoff partition whose content every primary has; a partition that
        got new writes during the pass stays for the next one."""
        if hashes_mod.get_hashes(dev_path, part, reclaim_age=self.reclaim_age) != synced:
            LOG.info("%s: handoff partition %s changed during the pass; kept",
                     self.name, part)
            return
        shutil.rmtree(hashes_mod.partition_dir(dev_path, part), ignore_errors=True)
        self.stats.incr("removed_handoffs")

    # -- one remote ------------------------------------------------------------------

    def _replicate(self, node: Mapping[str, Any], part: int, suffixes: str = "",
                   payload: Any = None) -> Any:
        """A REPLICATE request; its JSON answer, or None on any failure."""
        body = json.dumps(payload).encode() if payload is not None else None
        headers = {"Content-Type": "application/json"} if body else {}
        try:
            resp = backend.node_request(node, part, "REPLICATE",
                                        "/" + suffixes if suffixes else "",
                                        headers=headers, body=body, **self.timeouts)
            try:
                if resp.status // 100 != 2:
                    LOG.warning("%s: REPLICATE %s/%s on %s:%s answered %s", self.name,
                                node["device"], part, node["ip"], node["port"], resp.status)
                    return None
                return resp.json()
            finally:
                resp.close()
        except backend.NODE_ERRORS + (ValueError,) as err:
            LOG.warning("%s: %s:%s/%s unreachable: %s", self.name, node["ip"], node["port"],
                        node["device"], err)
            return None

    def sync_with(self, dev_path: str, part: int, local: dict[str, str],
                  node: Mapping[str, Any]) -> bool:
        """Bring one remote up to date with our partition; True when it is."""
        remote = self._replicate(node, part)
        if not isinstance(remote, dict):
            return False
        differ = sorted(s for s, h in local.items() if remote.get(s) != h)
        if not differ:
            return True
        # Our cached hashes may be stale: recheck the differing suffixes first.
        fresh = hashes_mod.get_hashes(dev_path, part, recalculate=differ,
                                      reclaim_age=self.reclaim_age)
        local.clear()
        local.update(fresh)
        differ = sorted(s for s in differ if s in local and remote.get(s) != local[s])
        if not differ:
            return True
        inventory = self._replicate(node, part, payload={"list": differ})
        if not isinstance(inventory, dict):
            return False
        ok = True
        for _part, _suffix, obj_hash, hash_dir in self._hash_dirs(dev_path, part, differ):
            files = ondisk.gather_files(hash_dir)
            for path in files_to_push(files, inventory.get(obj_hash)):
                if self.push_file(node, part, path, files):
                    self.stats.incr("pushed")
                else:
                    ok = False
                    self.stats.incr("push_failures")
        # Rehash on the remote even after partial failures: what arrived counts.
        self._replicate(node, part, suffixes="-".join(differ))
        return ok

    @staticmethod
    def _hash_dirs(dev_path: str, part: int, suffixes: list[str]) -> Any:
        wanted = set(suffixes)
        for item in hashes_mod.iter_hash_dirs(dev_path, [str(part)]):
            if item[1] in wanted:
                yield item

    def push_file(self, node: Mapping[str, Any], part: int, path: str,
                  files: ondisk.OnDisk) -> bool:
        """Send one object file to a remote as a replication request."""
        try:
            metadata = ondisk.read_metadata(path)
        except (OSError, ondisk.DiskFileMetadataError) as err:
            LOG.warning("%s: cannot read %s: %s", self.name, path, err)
            return False
        name = metadata.get("name") or ondisk.hash_dir_metadata(files).get("name")
        if not name:
            LOG.warning("%s: %s names no object; not pushed", self.name, path)
            return False
        stamp = ondisk.file_timestamp(path).internal
        headers = {k: v for k, v in metadata.items() if k != "name"}
        headers["X-Timestamp"] = stamp
        headers["X-Backend-Replication"] = "true"
        try:
            if path.endswith(ondisk.DATA):
                return self._put_data(node, part, name, path, headers)
            if path.endswith(ondisk.TOMBSTONE):
                return self._send(node, part, "DELETE", name,
                                  {"X-Timestamp": stamp, "X-Backend-Replication": "true"})
            return self._send(node, part, "POST", name, headers)
        except backend.NODE_ERRORS as err:
            LOG.warning("%s: pushing %s to %s:%s failed: %s", self.name, path, node["ip"],
                        node["port"], err)
            return False

    def _send(self, node: Mapping[str, Any], part: int, method: str, name: str,
              headers: dict[str, str]) -> bool:
        resp = backend.node_request(node, part, method, name, headers=headers,
                                    **self.timeouts)
        try:
            resp.read()
            # 404 answers a DELETE of something the remote never had: the .ts is there.
            return resp.status // 100 == 2 or (method == "DELETE" and resp.status == 404)
        finally:
            resp.close()

    def _put_data(self, node: Mapping[str, Any], part: int, name: str, path: str,
                  headers: dict[str, str]) -> bool:
        """PUT the .data file's bytes with its metadata as headers."""
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            headers["Content-Length"] = str(size)
            conn = backend.connect(node["ip"], node["port"], node["device"], part, "PUT",
                                   name, headers,
                                   conn_timeout=self.conf.daemons.conn_timeout,
                                   node_timeout=self.conf.daemons.node_timeout)
            try:
                while True:
                    chunk = handle.read(CHUNK)
                    if not chunk:
                        break
                    conn.send(chunk)
            except BaseException:
                conn.close()
                raise
        resp = backend.get_response(conn)
        try:
            resp.read()
            if resp.status // 100 != 2:
                LOG.warning("%s: replication PUT of %s answered %s", self.name, name,
                            resp.status)
            return resp.status // 100 == 2
        finally:
            resp.close()
