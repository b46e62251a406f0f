"""Real-guest boot benchmark, against a cloud from ``devstack/stack.sh`` with the
libvirt driver.

    source /opt/stratus/openrc.demo
    python tools/bench/compute_guest_bench.py [--boots N] [--image stratus-guest]
        [--flavor m1.tiny] [--network private]

Boots the tiny guest N times, one after the other, and prints per boot and as
medians: API->ACTIVE (POST /servers until the server's status is ACTIVE),
API->guest-has-IP (until its console log shows the DHCP lease the guest took
from the network service's dnsmasq) and API->metadata (until it shows what it
read from the metadata service); then deletes the server and times that too.
A figure, not a test: nothing here asserts a speed.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from typing import Any

from common.cli import client

IP_MARK = "stratus-guest: ip "
READY_MARK = "stratus-guest: ready"
TIMEOUT = 180.0


def _find(sess: Any, ep: dict[str, Any], path: str, key: str, name: str) -> str:
    for item in sess.get(path, endpoint_filter=ep).json()[key]:
        if item.get("name") == name or item.get("id") == name:
            return str(item["id"])
    raise SystemExit("no %s named %r" % (key[:-1], name))


def _boot(sess: Any, compute: dict[str, Any], body: dict[str, Any]) -> dict[str, float]:
    start = time.monotonic()
    server = sess.post("/servers", json={"server": body}, endpoint_filter=compute,
                       headers={"X-OpenStack-Nova-API-Version": "2.1"}).json()["server"]
    path = "/servers/%s" % server["id"]
    times: dict[str, float] = {}
    try:
        while "active" not in times:
            status = sess.get(path, endpoint_filter=compute).json()["server"]["status"]
            if status == "ERROR":
                raise SystemExit("server %s went to ERROR" % server["id"])
            if status == "ACTIVE":
                times["active"] = time.monotonic() - start
            elif time.monotonic() - start > TIMEOUT:
                raise SystemExit("server %s not ACTIVE after %.0f s" % (server["id"], TIMEOUT))
            else:
                time.sleep(0.1)
        while "metadata" not in times:
            log = sess.post(path + "/action", json={"os-getConsoleOutput": {}},
                            endpoint_filter=compute).json()["output"]
            now = time.monotonic() - start
            if IP_MARK in log and "ip" not in times:
                times["ip"] = now
            if READY_MARK in log:
                times.setdefault("ip", now)
                times["metadata"] = now
            elif now > TIMEOUT:
                raise SystemExit("guest %s did not report its address/metadata after %.0f s"
                                 % (server["id"], TIMEOUT))
            else:
                time.sleep(0.25)
    finally:
        deleted = time.monotonic()
        sess.delete(path, endpoint_filter=compute)
        while sess.get(path, endpoint_filter=compute, raise_exc=False).status_code != 404:
            time.sleep(0.1)
        times["delete"] = time.monotonic() - deleted
    return times


def main() -> None:
    parser = argparse.ArgumentParser(prog="tools/bench/compute_guest_bench.py")
    parser.add_argument("--boots", type=int, default=3)
    parser.add_argument("--image", default="stratus-guest")
    parser.add_argument("--flavor", default="m1.tiny")
    parser.add_argument("--network", default="private")
    args = parser.parse_args()
    sess = client.session_from_env(os.environ.get("OS_AUTH_URL"))
    compute = {"service_type": "compute", "interface": "public"}
    body = {"name": "bench-" + uuid.uuid4().hex[:8],
            "imageRef": _find(sess, {"service_type": "image", "interface": "public"},
                              "/v2/images?name=%s" % args.image, "images", args.image),
            "flavorRef": _find(sess, compute, "/flavors", "flavors", args.flavor),
            "networks": [{"uuid": _find(sess, {"service_type": "network",
                                               "interface": "public"},
                                        "/v2.0/networks?name=%s" % args.network, "networks",
                                        args.network)}]}
    results = []
    for index in range(args.boots):
        times = _boot(sess, compute, body)
        results.append(times)
        print("boot %d: API->ACTIVE %.2f s, API->guest has IP %.2f s, API->metadata read "
              "%.2f s, delete %.2f s" % (index + 1, times["active"], times["ip"],
                                         times["metadata"], times["delete"]))
    for key, label in (("active", "API->ACTIVE"), ("ip", "API->guest has IP"),
                       ("metadata", "API->metadata read"), ("delete", "delete")):
        print("%-20s median %.2f s (min %.2f, max %.2f) over %d boots" % (
            label, statistics.median(r[key] for r in results),
            min(r[key] for r in results), max(r[key] for r in results), len(results)))


if __name__ == "__main__":
    main()
