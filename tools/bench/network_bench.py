"""Port-creation benchmark.

    python tools/bench/network_bench.py [--ports N] [--clients C] [--pid PID] [--bind]

Creates N ports on one fresh /20 subnet with C concurrent clients through the
network API (credentials from OS_* as in ``source /opt/stratus/openrc``), checks
that no address was handed out twice, lists them, deletes everything and prints
the rates (and, when ``--pid`` names the server's process, its RSS and the CPU time
it spent per port in each phase, from /proc/PID/stat: less dependent on the
machine's load than the rates, though it counts whatever else the server did
meanwhile). ``--bind`` creates the ports as compute does (device, owner, project
and host in one request) and moves each to another host with a PUT, timed on its
own.
A figure, not a test: nothing here asserts a speed.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import os
import time
import uuid
from typing import Any, Callable

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


def _cpu_ms(pid: int | None) -> float | None:
    """User + system CPU time of process ``pid`` so far, in ms (None: unknown)."""
    if not pid:
        return None
    try:
        with open("/proc/%d/stat" % pid) as handle:
            # Fields after the command name (which may hold spaces): utime, stime are
            # the 14th and 15th fields of the whole line.
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")


def _phase(label: str, pid: int | None, clients: int, func: Callable[[Any], Any],
           items: list[Any]) -> list[Any]:
    """Run ``func`` over ``items`` with ``clients`` threads; print the rate (and the
    server's CPU per item); return the results."""
    cpu = _cpu_ms(pid)
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(func, items))
    took = time.monotonic() - start
    after = _cpu_ms(pid)
    line = "%s %d ports with %d clients in %.1f s: %.0f ports/s" % (
        label, len(items), clients, took, len(items) / took if took else 0.0)
    if cpu is not None and after is not None and items:
        line += ", server CPU %.1f ms per port" % ((after - cpu) / len(items))
    print(line)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="tools/bench/network_bench.py")
    parser.add_argument("--ports", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--pid", type=int,
                        help="The server's pid, for its RSS and CPU time per port.")
    parser.add_argument("--bind", action="store_true",
                        help="Create the ports as compute does (device, owner and host in "
                             "the request) and then move each to another host with a PUT.")
    args = parser.parse_args()
    sess = client.session_from_env(os.environ.get("OS_AUTH_URL"))
    ep: dict[str, Any] = {"service_type": "network", "interface": "public"}
    net = sess.post("/v2.0/networks", json={"network": {"name": "bench-" + uuid.uuid4().hex[:8]}},
                    endpoint_filter=ep).json()["network"]
    project = str(sess.get_project_id())
    quota = sess.get("/v2.0/quotas/" + project, endpoint_filter=ep).json()["quota"]["port"]
    # Room for the ports (the default quota is 500 per project); restored at the end.
    sess.put("/v2.0/quotas/" + project, json={"quota": {"port": -1}}, endpoint_filter=ep)
    try:
        sess.post("/v2.0/subnets", json={"subnet": {
            "network_id": net["id"], "ip_version": 4, "cidr": "10.128.0.0/20",
            "enable_dhcp": False}}, endpoint_filter=ep)

        def one(n: int) -> dict[str, Any]:
            body: dict[str, Any] = {"network_id": net["id"]}
            if args.bind:
                body.update({"project_id": project, "device_id": str(uuid.uuid4()),
                             "device_owner": "compute:nova",
                             "binding:host_id": "bench-node-%d" % (n % 10)})
            resp = sess.post("/v2.0/ports", json={"port": body}, endpoint_filter=ep)
            return dict(resp.json()["port"])

        def rebind(port: dict[str, Any]) -> None:
            host = "bench-node-%d" % ((int(port["binding:host_id"][11:]) + 1) % 10)
            sess.put("/v2.0/ports/" + port["id"], json={"port": {"binding:host_id": host}},
                     endpoint_filter=ep)

        created = _phase("created", args.pid, args.clients, one, list(range(args.ports)))
        ips = {p["fixed_ips"][0]["ip_address"] for p in created}
        print("%d distinct addresses" % len(ips))
        if args.bind:
            _phase("re-bound", args.pid, args.clients, rebind, created)
        start = time.monotonic()
        ports = sess.get("/v2.0/ports?network_id=" + net["id"],
                         endpoint_filter=ep).json()["ports"]
        print("listed %d ports in %.2f s" % (len(ports), time.monotonic() - start))
        if args.pid:
            print("server RSS: %s" % _rss(args.pid))
        _phase("deleted", args.pid, args.clients,
               lambda p: sess.delete("/v2.0/ports/" + p["id"], endpoint_filter=ep), ports)
    finally:
        sess.delete("/v2.0/networks/" + net["id"], endpoint_filter=ep, raise_exc=False)
        sess.put("/v2.0/quotas/" + project, json={"quota": {"port": quota}},
                 endpoint_filter=ep, raise_exc=False)


if __name__ == "__main__":
    main()
