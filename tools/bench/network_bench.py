"""Port-creation benchmark.

    python tools/bench/network_bench.py [--ports N] [--clients C] [--pid PID]

Creates N ports on one fresh /20 subnet with C concurrent clients through the
network API (credentials from OS_* as in ``source /opt/stratus/openrc``), checks
that no address was handed out twice, lists them, deletes everything and prints
the rates (and the server's RSS when ``--pid`` names its process).
A figure, not a test: nothing here asserts a speed.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import os
import time
import uuid
from typing import Any

from common.cli import client


def _rss(pid: int) -> str:
    try:
        with open("/proc/%d/status" % pid) as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(prog="tools/bench/network_bench.py")
    parser.add_argument("--ports", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--pid", type=int, help="The server's pid, for its RSS.")
    args = parser.parse_args()
    sess = client.session_from_env(os.environ.get("OS_AUTH_URL"))
    ep: dict[str, Any] = {"service_type": "network", "interface": "public"}
    net = sess.post("/v2.0/networks", json={"network": {"name": "bench-" + uuid.uuid4().hex[:8]}},
                    endpoint_filter=ep).json()["network"]
    project = sess.get_project_id()
    quota = sess.get("/v2.0/quotas/" + project, endpoint_filter=ep).json()["quota"]["port"]
    # Room for the ports (the default quota is 500 per project); restored at the end.
    sess.put("/v2.0/quotas/" + project, json={"quota": {"port": -1}}, endpoint_filter=ep)
    try:
        sess.post("/v2.0/subnets", json={"subnet": {
            "network_id": net["id"], "ip_version": 4, "cidr": "10.128.0.0/20",
            "enable_dhcp": False}}, endpoint_filter=ep)

        def one(_n: int) -> str:
            resp = sess.post("/v2.0/ports", json={"port": {"network_id": net["id"]}},
                             endpoint_filter=ep)
            return str(resp.json()["port"]["fixed_ips"][0]["ip_address"])

        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
            ips = list(pool.map(one, range(args.ports)))
        took = time.monotonic() - start
        print("created %d ports with %d clients in %.1f s: %.0f ports/s; %d distinct "
              "addresses" % (args.ports, args.clients, took, args.ports / took, len(set(ips))))
        start = time.monotonic()
        ports = sess.get("/v2.0/ports?network_id=" + net["id"],
                         endpoint_filter=ep).json()["ports"]
        print("listed %d ports in %.2f s" % (len(ports), time.monotonic() - start))
        if args.pid:
            print("server RSS: %s" % _rss(args.pid))
        with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(lambda p: sess.delete("/v2.0/ports/" + p["id"], endpoint_filter=ep),
                          ports))
    finally:
        sess.delete("/v2.0/networks/" + net["id"], endpoint_filter=ep, raise_exc=False)
        sess.put("/v2.0/quotas/" + project, json={"quota": {"port": quota}},
                 endpoint_filter=ep, raise_exc=False)


if __name__ == "__main__":
    main()
