"""Container updates after an object PUT/DELETE, and ``async_pending`` for failed ones.

The proxy tells each object server where the object's container lives
(``X-Container-Host: ip:port[,ip:port…]``, ``X-Container-Device: d1[,d2…]``,
``X-Container-Partition: p`` — one partition for all, or one per host). After the object
is on disk, the object server sends the row change to each of them in parallel. If any
fails (or none was named properly), the update is written once to
``<device>/async_pending/<suffix>/<hash>-<timestamp>`` as JSON
``{"op", "account", "container", "obj", "headers"}``; the updater daemon sends it to the
container's replicas later (objectstore/README.md, "On disk").
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from typing import Mapping

from objectstore.common import backend
from objectstore.common.utils import Timestamp, hash_path
from objectstore.obj.ondisk import fsync_dir

LOG = logging.getLogger(__name__)

ASYNC_DIR = "async_pending"


def async_pending_path(device_path: str, account: str, container: str, obj: str,
                       timestamp: str) -> str:
    """``<device>/async_pending/<suffix>/<hash>-<timestamp>``."""
    obj_hash = hash_path(account, container, obj)
    return os.path.join(device_path, ASYNC_DIR, obj_hash[-3:],
                        "%s-%s" % (obj_hash, Timestamp(timestamp).internal))


def write_async_pending(device_path: str, op: str, account: str, container: str, obj: str,
                        headers: Mapping[str, str], fsync: bool = True) -> str:
    """Save a container update for the updater; returns the file's path."""
    path = async_pending_path(device_path, account, container, obj, headers["X-Timestamp"])
    body = json.dumps({"op": op, "account": account, "container": container, "obj": obj,
                       "headers": dict(headers)}, sort_keys=True).encode()
    tmp_dir = os.path.join(device_path, "tmp")
    os.makedirs(tmp_dir, exist_ok=True)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=tmp_dir, suffix=".async")
    try:
        os.write(fd, body)
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, path)
    if fsync:
        fsync_dir(os.path.dirname(path))
    return path


def _targets(request_headers: Mapping[str, str]) -> list[tuple[str, int, str, str]] | None:
    """``(ip, port, device, partition)`` of each container server named in the request;
    ``[]`` when none is named, None when the headers do not agree."""
    hosts = [h.strip() for h in request_headers.get("X-Container-Host", "").split(",")
             if h.strip()]
    devices = [d.strip() for d in request_headers.get("X-Container-Device", "").split(",")
               if d.strip()]
    partitions = [p.strip() for p in request_headers.get("X-Container-Partition", "").split(",")
                  if p.strip()]
    if not hosts and not devices:
        return []
    if len(partitions) == 1:
        partitions = partitions * len(hosts)
    if len(hosts) != len(devices) or len(partitions) != len(hosts):
        return None
    targets = []
    for host, device, partition in zip(hosts, devices, partitions, strict=True):
        ip, sep, port = host.rpartition(":")
        if not sep or not port.isdigit():
            return None
        targets.append((ip.strip("[]"), int(port), device, partition))
    return targets


def _send_one(target: tuple[str, int, str, str], op: str, path: str,
              headers: Mapping[str, str], conn_timeout: float, node_timeout: float,
              results: list[bool]) -> None:
    ip, port, device, partition = target
    try:
        resp = backend.request(ip, port, device, partition, op, path, headers=headers,
                               conn_timeout=conn_timeout, node_timeout=node_timeout)
        try:
            resp.read()
        finally:
            resp.close()
        ok = 200 <= resp.status < 300
        if not ok:
            LOG.warning("Container update %s %s to %s:%s/%s answered %s",
                        op, path, ip, port, device, resp.status)
    except backend.NODE_ERRORS as exc:
        LOG.warning("Container update %s %s to %s:%s/%s failed: %s",
                    op, path, ip, port, device, exc)
        ok = False
    results.append(ok)


def container_update(device_path: str, op: str, account: str, container: str, obj: str,
                     request_headers: Mapping[str, str], update_headers: Mapping[str, str],
                     conn_timeout: float, node_timeout: float, fsync: bool = True) -> bool:
    """Send ``op`` (PUT/DELETE) of the object's row to every container server the
    request names, at once; on any failure write the update to async_pending.
    Returns True when every update succeeded (or none was asked for)."""
    targets = _targets(request_headers)
    if targets == []:
        return True
    headers = dict(update_headers)
    ok = targets is not None
    if targets:
        results: list[bool] = []
        path = "/%s/%s/%s" % (account, container, obj)
        if len(targets) == 1:
            # the usual case (each object server updates one container replica): no
            # thread to start for it
            _send_one(targets[0], op, path, headers, conn_timeout, node_timeout, results)
        else:
            threads = [threading.Thread(target=_send_one, daemon=True,
                                        name="container-update",
                                        args=(t, op, path, headers, conn_timeout,
                                              node_timeout, results)) for t in targets]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(conn_timeout + node_timeout + 1.0)
        ok = len(results) == len(targets) and all(results)
    else:
        LOG.error("Container update headers of /%s/%s/%s do not agree: %s",
                  account, container, obj,
                  {k: v for k, v in request_headers.items() if k.startswith("X-Container-")})
    if not ok:
        write_async_pending(device_path, op, account, container, obj, headers, fsync)
    return ok
