"""Scheduler decision-time benchmark (pure logic, no daemons).

    python tools/bench/compute_scheduler_bench.py [--hosts N] [--iterations I] [--seed S]

Builds N HostStates of varied sizes (a few disabled or down, several availability
zones and aggregates), then times ``FilterScheduler.select_destinations`` for a
one-instance and a ten-instance request over I iterations each, on fresh copies
of the hosts so every run sees the same starting state. Prints median and p99
per request and per instance placed. A figure, not a test: nothing here asserts
a speed (the compute issue's aim is under 20 ms per decision at 1,000 hosts).
"""
from __future__ import annotations

import argparse
import copy
import gc
import datetime
import random
import statistics
import time

from compute.scheduler.host_state import Aggregate, HostState
from compute.scheduler.filter_scheduler import FilterScheduler
from compute.scheduler.request import Flavor, RequestSpec, ServerGroup


#: When the few "down" hosts last reported; every other host reports before each run.
DOWN_SINCE = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)


def build_hosts(count: int, rng: random.Random) -> list[HostState]:
    now = datetime.datetime.now(datetime.timezone.utc)
    sizes = [(8, 16384, 200), (16, 65536, 500), (32, 131072, 1000), (64, 262144, 2000)]
    ssd = Aggregate("ssd", {"ssd": "true"})
    zones = [Aggregate("az%d" % i, {"availability_zone": "az%d" % i}) for i in range(4)]
    hosts = []
    for i in range(count):
        vcpus, ram, disk = rng.choice(sizes)
        fill = rng.random() * 0.8
        aggregates = [zones[i % 4]] + ([ssd] if i % 3 == 0 else [])
        hosts.append(HostState(
            host="compute-%04d" % i, node="compute-%04d" % i, vcpus_total=vcpus,
            vcpus_used=int(vcpus * 16 * fill), memory_mb_total=ram,
            memory_mb_used=int(ram * fill), disk_gb_total=disk, disk_gb_used=int(disk * fill),
            num_instances=int(20 * fill), aggregates=aggregates, enabled=i % 97 != 0,
            updated_at=now if i % 89 else DOWN_SINCE,
            hypervisor_type="QEMU", stats={"cpu_arch": "x86_64"}))
    return hosts


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def run(scheduler: FilterScheduler, hosts: list[HostState], spec: RequestSpec,
        iterations: int) -> list[float]:
    samples = []
    for _ in range(iterations):
        fresh = copy.deepcopy(hosts)
        now = datetime.datetime.now(datetime.timezone.utc)
        for host in fresh:  # the nodes keep reporting while the benchmark runs
            if host.updated_at != DOWN_SINCE:
                host.updated_at = now
        gc.collect()  # the copy's garbage is not part of a decision
        start = time.perf_counter()
        scheduler.select_destinations(fresh, spec)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(prog="tools/bench/compute_scheduler_bench.py")
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    hosts = build_hosts(args.hosts, rng)
    scheduler = FilterScheduler(rng=rng)
    flavor = Flavor(vcpus=2, memory_mb=2048, root_gb=20,
                    extra_specs={"aggregate_instance_extra_specs:ssd": "true",
                                 "capabilities:cpu_arch": "x86_64"})
    cases = [
        ("1 instance", RequestSpec(flavor=flavor, num_instances=1)),
        ("10 instances", RequestSpec(flavor=flavor, num_instances=10)),
        ("10 instances, anti-affinity group", RequestSpec(
            flavor=flavor, num_instances=10, availability_zone="az1",
            group=ServerGroup("g", "anti-affinity"))),
    ]
    print("%d hosts, %d iterations per case (ms)" % (len(hosts), args.iterations))
    for label, spec in cases:
        samples = run(scheduler, hosts, spec, args.iterations)
        per = [s / spec.num_instances for s in samples]
        print("%-36s request median %7.2f p99 %7.2f | per instance median %6.2f p99 %6.2f"
              % (label, statistics.median(samples), _percentile(samples, 99),
                 statistics.median(per), _percentile(per, 99)))


if __name__ == "__main__":
    main()
