#!/usr/bin/env python3
"""Compute benchmark with the fake driver: boot rate, API->ACTIVE latency,
scheduler decision time, daemon memory.

    python tools/bench/compute_bench.py [--servers 200] [--nodes 10] [--clients 4]
        [--rates 0,20] [--network auto|none|one] [--report-interval 10] [--hosts 1000]
        [--decisions 100] [--skip-boots] [--skip-scheduler]

Boots (unless ``--skip-boots``): starts ``stratus-identity-api``, the image
service, ``stratus-network-server`` and the compute api, conductor, scheduler,
metadata and ``--nodes`` ``stratus-compute-node`` processes (fake driver, hosts
``bench-node-01`` ...) on scratch state (SQLite, a RabbitMQ vhost of their own
made with ``rabbitmqctl``: run as root where RabbitMQ runs), the fixture of
tests/functional/compute/conftest.py, with the daemons' heartbeats every
``--report-interval`` seconds (Nova's default 10; the functional tests' fixture
beats every second, which costs the conductor and the nodes a heartbeat call per
daemon per second).

Then, for each of ``--rates``: ``--clients`` threads POST ``--servers`` servers
as fast as they can (rate 0: a burst, the boot capacity; its p99 is mostly the
burst's own queue: the last of 200 waits for 199 others) or the servers are
POSTed open loop at that rate (the latency at that load: the aim's p99 < 3 s at
20 boots/s); servers of flavor 64 MiB / 1 vCPU / 1 GiB, networks ``none`` when
the API offers microversion 2.37, else one shared network (``--network`` forces
it), while one poller lists ``/servers/detail?status=BUILD`` every 0.1 s: a
server is done when it leaves that list. Prints boots/s (servers over the time
from the first POST to the last server done), API->ACTIVE p50/p99 (POST sent to
first poll that saw it done; the poll period bounds the error), the POST
latency, the ACTIVE/ERROR count, and the RSS of every daemon; then
deletes the servers and prints the delete rate.

Scheduler (unless ``--skip-scheduler``), in process, no daemons:

- the pure filter scheduler over ``--hosts`` HostStates (the core measured by
  tools/bench/compute_scheduler_bench.py), ``--decisions`` one-instance requests;
- ``SchedulerManager.select_destinations`` (the scheduler daemon's RPC method:
  host states read from the database, decision, placement recorded) against a
  SQLite compute database with ``--hosts`` compute_nodes rows, their services
  and 2 instances per host.

A figure, not a test: nothing here asserts a speed. The compute issue's aims:
>= 20 boots/s and p99 < 3 s for 200 servers over 10 fake nodes on 2 cores, and
< 20 ms per scheduling decision at 1,000 hosts.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import gc
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
import warnings
from typing import Any

# Deprecation chatter of the libraries the fixtures import (eventlet, dnspython).
warnings.simplefilter("ignore")

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, REPO)
sys.path.insert(0, HERE)

from tests.functional import conftest as fx  # noqa: E402
from tests.functional.compute import conftest as cfx  # noqa: E402

POLL = 0.1


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def _max_microversion(api: Any) -> tuple[int, int]:
    resp = api.get("/")
    version = resp.json().get("version", {}).get("version") or "2.1"
    major, minor = version.split(".")
    return int(major), int(minor)


def _prepare(cloud: cfx.ComputeCloud, api: Any, network: str) -> dict[str, Any]:
    """Flavor, image, unlimited quotas and the networks argument."""
    resp = api.post("/flavors", json={"flavor": {"name": "bench." + uuid.uuid4().hex[:6],
                                                 "ram": 64, "vcpus": 1, "disk": 1}})
    resp.raise_for_status()
    flavor = resp.json()["flavor"]["id"]
    image = cloud.upload_image("bench-image")
    project = api.session.get_project_id()
    api.put("/os-quota-sets/%s" % project, json={"quota_set": {
        "instances": -1, "cores": -1, "ram": -1}}).raise_for_status()
    headers: dict[str, str] = {}
    if network == "auto":
        network = "none" if _max_microversion(api) >= (2, 37) else "one"
    if network == "none":
        networks: Any = "none"
        headers["X-OpenStack-Nova-API-Version"] = "2.37"
    else:
        net_api = cloud.net_api(api.session)
        net = net_api.post("/v2.0/networks", json={"network": {"name": "bench-net"}})
        net_id = net.json()["network"]["id"]
        net_api.post("/v2.0/subnets", json={"subnet": {
            "network_id": net_id, "ip_version": 4, "cidr": "10.64.0.0/20"}})
        if net_api.get("/v2.0/quotas/%s" % project).status_code == 200:
            net_api.put("/v2.0/quotas/%s" % project, json={"quota": {"port": -1}})
        networks = [{"uuid": net_id}]
    return {"flavor": flavor, "image": image, "networks": networks, "headers": headers,
            "network": network}


class _Run:
    """The servers of one boot run: when each POST was sent, how long it took,
    and when the poller first saw each server out of BUILD."""

    def __init__(self, api: Any, setup: dict[str, Any], count: int) -> None:
        self.api = api
        self.setup = setup
        self.count = count
        self.posted: dict[str, float] = {}
        self.post_times: list[float] = []
        self.done: dict[str, float] = {}
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.finished = threading.Event()

    def boot(self, i: int) -> None:
        body = {"server": {"name": "bench-%04d" % i, "imageRef": self.setup["image"],
                           "flavorRef": self.setup["flavor"],
                           "networks": self.setup["networks"]}}
        start = time.monotonic()
        resp = self.api.post("/servers", json=body, headers=self.setup["headers"])
        took = time.monotonic() - start
        with self.lock:
            if resp.status_code != 202:
                self.errors.append("POST %s: %s" % (resp.status_code, resp.text[:200]))
                return
            self.posted[resp.json()["server"]["id"]] = start
            self.post_times.append(took)

    def poll(self) -> None:
        full = False  # fall back to full listings when ?status= is not applied
        while not self.finished.is_set():
            now = time.monotonic()
            with self.lock:  # only servers that existed before the listing was asked for
                known = list(self.posted)
            resp = self.api.get("/servers/detail" if full
                                else "/servers/detail?status=BUILD")
            if resp.status_code == 200:
                listed = resp.json()["servers"]
                if not full and any(s["status"] != "BUILD" for s in listed):
                    full = True
                    continue
                building = {s["id"] for s in listed if s["status"] == "BUILD"}
                with self.lock:
                    for server_id in known:
                        if server_id not in building and server_id not in self.done:
                            self.done[server_id] = now
                    if len(self.done) + len(self.errors) >= self.count:
                        return
            time.sleep(POLL)

    def report(self, first: float) -> None:
        if self.errors:
            print("  %d POSTs failed, first: %s" % (len(self.errors), self.errors[0]))
        if self.done:
            last = max(self.done.values())
            latencies = [self.done[s] - self.posted[s] for s in self.done]
            print("  %d servers done in %.1f s: %.1f boots/s" % (
                len(self.done), last - first, len(self.done) / (last - first)))
            print("  API->ACTIVE p50 %.2f s  p99 %.2f s  max %.2f s (poll period %.1f s)" % (
                statistics.median(latencies), percentile(latencies, 99), max(latencies),
                POLL))
            print("  POST /servers p50 %.0f ms  p99 %.0f ms" % (
                statistics.median(self.post_times) * 1000,
                percentile(self.post_times, 99) * 1000))
        statuses: dict[str, int] = {}
        for server in self.api.get("/servers/detail").json()["servers"]:
            statuses[server["status"]] = statuses.get(server["status"], 0) + 1
        print("  final statuses: %s" % ", ".join("%s %d" % kv
                                                 for kv in sorted(statuses.items())))
        resp = self.api.get("/os-hypervisors/detail")
        if resp.status_code == 200:
            per_node = {h["hypervisor_hostname"]: h.get("running_vms", 0)
                        for h in resp.json()["hypervisors"]}
            print("  running_vms per node: %s" % " ".join(
                str(per_node[k]) for k in sorted(per_node)))

    def delete_all(self, clients: int) -> None:
        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(clients) as pool:
            list(pool.map(lambda s: self.api.delete("/servers/%s" % s), list(self.posted)))
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and self.api.get("/servers").json()["servers"]:
            time.sleep(0.2)
        took = time.monotonic() - start
        print("  deleted %d servers in %.1f s (%.1f/s)" % (
            len(self.posted), took, len(self.posted) / took))


def boots(cloud: cfx.ComputeCloud, count: int, clients: int, network: str,
          rates: list[float]) -> None:
    api = cloud.api(cloud.session())
    setup = _prepare(cloud, api, network)
    for rate in rates:
        boot_run(cloud, api, setup, count, clients, rate)


def boot_run(cloud: cfx.ComputeCloud, api: Any, setup: dict[str, Any], count: int,
             clients: int, rate: float) -> None:
    """One run of ``count`` boots: as fast as ``clients`` closed-loop clients post
    (``rate`` 0: a burst, whose p99 is mostly the queue of the burst itself), or
    open-loop at ``rate`` POSTs per second (the latency at that offered load)."""
    if rate > 0:
        print("booting %d servers at %.0f/s (open loop) over %d nodes (networks: %s)" % (
            count, rate, len(cloud.node_hosts), setup["network"]))
    else:
        print("booting %d servers with %d clients (burst) over %d nodes (networks: %s)" % (
            count, clients, len(cloud.node_hosts), setup["network"]))
    run = _Run(api, setup, count)
    poller = threading.Thread(target=run.poll, daemon=True)
    cpu_before = {name: cpu_seconds(pid) for name, pid in daemon_pids(cloud)}
    first = time.monotonic()
    poller.start()
    if rate > 0:
        def paced(i: int) -> float:
            time.sleep(max(0.0, first + i / rate - time.monotonic()))
            sent = time.monotonic()
            run.boot(i)
            return sent

        # Enough threads that a slow POST never holds back the schedule.
        with concurrent.futures.ThreadPoolExecutor(max(clients, 32)) as pool:
            sent = list(pool.map(paced, range(count)))
        print("  offered %.1f POSTs/s (last POST sent %.1f s after the first)" % (
            (count - 1) / max(sent[-1] - first, 1e-9), sent[-1] - first))
    else:
        with concurrent.futures.ThreadPoolExecutor(clients) as pool:
            list(pool.map(run.boot, range(count)))
    poller.join(timeout=600)
    run.finished.set()
    took = time.monotonic() - first
    cpu = {name: cpu_seconds(pid) - cpu_before.get(name, 0.0)
           for name, pid in daemon_pids(cloud)}
    run.report(first)
    nodes = sum(v for k, v in cpu.items() if k.startswith("compute-node-"))
    print("  CPU seconds during the %.1f s of boots: %s, the %d nodes %.1f" % (
        took, ", ".join("%s %.1f" % kv for kv in cpu.items()
                        if not kv[0].startswith("compute-node-")),
        len(cloud.node_hosts), nodes))
    done = max(len(run.done), 1)
    per_boot = {k: v * 1000 / done for k, v in cpu.items() if not k.startswith("compute-node-")}
    per_boot["the nodes"] = nodes * 1000 / done
    print("  CPU per boot (ms): %s; total %.1f" % (
        ", ".join("%s %.1f" % kv for kv in per_boot.items()), sum(per_boot.values())))
    print("  load average at the end: %.1f" % os.getloadavg()[0])
    print_rss(cloud)
    run.delete_all(clients)


def daemon_pids(cloud: cfx.ComputeCloud) -> list[tuple[str, int]]:
    """(name, pid) of every daemon of the cloud, compute's and its neighbours'."""
    rows = list(cloud.pids().items())
    others: list[tuple[str, fx.Daemon | None]] = [("identity", cloud.identity.daemon)]
    if cloud.image is not None:
        others += [("image-api", cloud.image.api), ("image-registry", cloud.image.registry)]
    if cloud.network is not None:
        others.append(("network-server", cloud.network.server))
    rows += [(name, d.proc.pid) for name, d in others if d is not None]
    return rows


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (0 when it is gone)."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def print_rss(cloud: cfx.ComputeCloud) -> None:
    rows = daemon_pids(cloud)
    node_rss = [cfx.rss_mb(pid) for name, pid in rows if name.startswith("compute-node-")]
    print("  RSS (MB): " + ", ".join("%s %.0f" % (name, cfx.rss_mb(pid)) for name, pid in rows
                                     if not name.startswith("compute-node-")))
    if node_rss:
        print("  RSS of the %d node processes (MB): min %.0f max %.0f total %.0f" % (
            len(node_rss), min(node_rss), max(node_rss), sum(node_rss)))


# ---------------------------------------------------------------------------
# Scheduler decision time
# ---------------------------------------------------------------------------

def scheduler_core(hosts: int, decisions: int) -> None:
    import compute_scheduler_bench as core
    from compute.scheduler.filter_scheduler import FilterScheduler
    from compute.scheduler.request import Flavor, RequestSpec

    rng = random.Random(42)
    states = core.build_hosts(hosts, rng)
    spec = RequestSpec(flavor=Flavor(vcpus=1, memory_mb=512, root_gb=1), num_instances=1)
    samples = core.run(FilterScheduler(rng=rng), states, spec, decisions)
    print("filter scheduler core, %d hosts, 1 instance: median %.2f ms  p99 %.2f ms "
          "(%d decisions)" % (hosts, statistics.median(samples), percentile(samples, 99),
                              decisions))


def _fill_db(db: Any, hosts: int, per_host: int) -> list[str]:
    """``hosts`` compute nodes with live services and ``per_host`` active
    instances each, in one transaction; returns the host names."""
    from common.db import models as base_models
    from compute.db import hosts as hosts_db
    from compute.db import models

    now = base_models.utcnow()
    names = ["sched-%04d" % i for i in range(hosts)]
    tiny = {"flavorid": "1", "name": "bench.tiny", "vcpus": 1, "memory_mb": 512,
            "root_gb": 1, "ephemeral_gb": 0, "swap": 0, "extra_specs": {}}
    with db.writer() as session:
        for i, name in enumerate(names):
            session.add(models.Service(uuid=str(uuid.uuid4()), host=name,
                                       binary=hosts_db.COMPUTE_BINARY, topic="compute",
                                       report_count=1, last_seen_up=now))
            size = (16, 65536, 500) if i % 2 else (32, 131072, 1000)
            session.add(models.ComputeNode(
                uuid=str(uuid.uuid4()), host=name, hypervisor_hostname=name,
                hypervisor_type="fake", vcpus=size[0], memory_mb=size[1], local_gb=size[2],
                cpu_info={}, cpu_allocation_ratio=4.0, ram_allocation_ratio=1.0,
                disk_allocation_ratio=1.0))
            for _ in range(per_host):
                session.add(models.Instance(
                    uuid=str(uuid.uuid4()), project_id="p1", user_id="u1", vm_state="active",
                    flavor=tiny, memory_mb=512, vcpus=1, root_gb=1, host=name, node=name))
    return names


def scheduler_manager(hosts: int, decisions: int) -> None:
    from compute.scheduler import manager
    from tests.fixtures import compute_daemons as dfx

    state = tempfile.mkdtemp(prefix="compute-sched-bench-")
    try:
        conf, db = dfx.make_db(state)
        start = time.monotonic()
        _fill_db(db, hosts, 2)
        print("SchedulerManager over SQLite: %d compute_nodes, %d services, %d instances "
              "written in %.1f s" % (hosts, hosts, hosts * 2, time.monotonic() - start))
        sched = manager.SchedulerManager(conf, db, rng=random.Random(7))
        uuids = [dfx.add_instance(db) for _ in range(decisions + 1)]
        spec = dfx.spec()
        ctxt = dfx.ctxt()
        dfx.call(sched.select_destinations, ctxt, spec, [uuids[0]])  # warm caches
        samples = []
        for instance_uuid in uuids[1:]:
            gc.collect()
            t0 = time.perf_counter()
            dfx.call(sched.select_destinations, ctxt, spec, [instance_uuid])
            samples.append((time.perf_counter() - t0) * 1000)
        print("select_destinations (read hosts + use, decide, record), 1 instance: "
              "median %.2f ms  p99 %.2f ms  (%d decisions)" % (
                  statistics.median(samples), percentile(samples, 99), decisions))
        db.dispose()
    finally:
        shutil.rmtree(state, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=int, default=200)
    parser.add_argument("--nodes", type=int, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rates", default="0,20",
                        help="comma-separated runs: 0 = a burst from --clients closed-loop "
                             "clients, N = open loop at N POSTs/s")
    parser.add_argument("--network", choices=["auto", "none", "one"], default="auto")
    parser.add_argument("--report-interval", type=int, default=10,
                        help="seconds between the daemons' heartbeats")
    parser.add_argument("--hosts", type=int, default=1000,
                        help="hosts for the scheduler decision time")
    parser.add_argument("--decisions", type=int, default=100)
    parser.add_argument("--skip-boots", action="store_true")
    parser.add_argument("--skip-scheduler", action="store_true")
    parser.add_argument("--keep", action="store_true",
                        help="keep the scratch directory (daemon logs)")
    args = parser.parse_args()
    if not args.skip_scheduler:
        scheduler_core(args.hosts, args.decisions)
        scheduler_manager(args.hosts, args.decisions)
    if args.skip_boots:
        return
    if not shutil.which("rabbitmqctl"):
        sys.exit("rabbitmqctl is needed (the benchmark's daemons get a RabbitMQ vhost of "
                 "their own): run it as root where RabbitMQ runs")
    state = tempfile.mkdtemp(prefix="compute-bench-")
    identity = cloud = None
    try:
        start = time.monotonic()
        identity = fx.IdentityCloud(os.path.join(state, "identity"))
        nodes = tuple("bench-node-%02d" % (i + 1) for i in range(args.nodes))
        cloud = cfx.ComputeCloud(os.path.join(state, "compute"), identity, nodes=nodes,
                                 debug=False, wait_nodes=False,
                                 extra_conf="[DEFAULT]\nreport_interval = %d"
                                 % args.report_interval)
        cloud.wait_nodes(timeout=120)
        print("cloud of %d daemons up in %.1f s (state %s)" % (
            len(cloud.daemons) + 4, time.monotonic() - start, state))
        print_rss(cloud)
        boots(cloud, args.servers, args.clients, args.network,
              [float(r) for r in args.rates.split(",")])
    finally:
        if cloud is not None:
            cloud.stop()
        if identity is not None:
            identity.daemon.stop()
        if args.keep:
            print("kept %s" % state)
        else:
            shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
