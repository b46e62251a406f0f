"""Scheduler daemon decision-time benchmark: the database-backed path.

    python tools/bench/compute_scheduler_db_bench.py [--hosts N] [--instances M]
        [--iterations I] [--cache-seconds S]

Fills an SQLite compute database (in a temporary directory) with N compute nodes
and their live services, four availability-zone aggregates and M instances
spread over the hosts, then times ``SchedulerManager.select_destinations`` for
one-instance requests as the RPC endpoint serves them: the host states read
from the database (nodes/services/aggregates cached for ``--cache-seconds``, the
use summed from the instances on every decision), the filter scheduler, and the
write of the chosen host into the instance row. Prints median and p99 of the
whole decision and of its parts. A figure, not a test; the compute issue aims
at under 20 ms per decision with 1,000 hosts
(tools/bench/compute_scheduler_bench.py times the pure core alone).
"""
from __future__ import annotations

import argparse
import copy
import gc
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from common import context
from common.db import engine
from common.db import migration
from common.db import models as base_models
from compute import conf as compute_conf
from compute.cmd import manage
from compute.db import hosts as hosts_db
from compute.db import instances as instances_db
from compute.db import models
from compute.scheduler import manager

FLAVOR = {"flavorid": "1", "name": "m1.tiny", "vcpus": 1, "memory_mb": 512, "root_gb": 1,
          "ephemeral_gb": 0, "swap": 0, "extra_specs": {}}


def database(tmp: str) -> tuple[cfg.ConfigOpts, engine.Database]:
    conf = cfg.ConfigOpts()
    compute_conf.register_opts(conf)
    conf([], project="stratus-bench", default_config_files=[])
    url = "sqlite:///%s/compute.sqlite" % tmp
    migration.sync(manage.MIGRATIONS, url)
    return conf, engine.Database(engine.create_engine(url))


def new_instance(db: engine.Database) -> str:
    row = instances_db.InstanceStore(db).create({
        "project_id": "p", "user_id": "u", "vm_state": "building",
        "task_state": "scheduling", "flavor": FLAVOR, "request_spec": {"flavor": FLAVOR}})
    return str(row["uuid"])


def fill(db: engine.Database, hosts: int, instances: int, rng: random.Random) -> list[str]:
    """Nodes, services, aggregates and instances; returns the host names."""
    now = base_models.utcnow()
    names = ["compute-%04d" % i for i in range(hosts)]
    with db.writer() as session:
        for name in names:
            session.add(models.ComputeNode(
                uuid=str(uuid.uuid4()), host=name, hypervisor_hostname=name,
                hypervisor_type="fake", vcpus=32, memory_mb=131072, local_gb=2000,
                cpu_allocation_ratio=16.0, ram_allocation_ratio=1.5,
                disk_allocation_ratio=1.0, cpu_info={"arch": "x86_64"}))
            session.add(models.Service(
                uuid=str(uuid.uuid4()), host=name, binary=hosts_db.COMPUTE_BINARY,
                topic="compute", last_seen_up=now, disabled=False, forced_down=False,
                report_count=1))
        for zone in range(4):
            agg = models.Aggregate(uuid=str(uuid.uuid4()), name="az%d" % zone)
            agg.metadata_items = [models.AggregateMetadata(key="availability_zone",
                                                           value="az%d" % zone)]
            agg.hosts = [models.AggregateHost(host=n) for n in names[zone::4]]
            session.add(agg)
        for _ in range(instances):
            host = rng.choice(names)
            session.add(models.Instance(
                uuid=str(uuid.uuid4()), project_id="p", user_id="u", vm_state="active",
                flavor=FLAVOR, host=host, node=host, memory_mb=512, vcpus=1, root_gb=1,
                ephemeral_gb=0, request_spec={"flavor": FLAVOR},
                network_info=[{"id": str(uuid.uuid4()), "address": "fa:16:3e:00:00:01"}]))
    return names


def beat(db: engine.Database) -> None:
    """Every node's service reports now (a slow run must not see them go down)."""
    with db.writer() as session:
        session.execute(sa.update(models.Service).values(last_seen_up=base_models.utcnow()))


def _time(func: Callable[[], Any], iterations: int,
          setup: Callable[[], Any] | None = None) -> list[float]:
    samples = []
    gc.collect()
    gc.disable()  # a collection is not part of a decision
    try:
        for _ in range(iterations):
            if setup is not None:
                setup()
            start = time.perf_counter()
            func()
            samples.append((time.perf_counter() - start) * 1000)
    finally:
        gc.enable()
    return samples


def _line(label: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return "%-40s median %7.2f p99 %7.2f" % (label, statistics.median(samples), p99)


def main() -> None:
    parser = argparse.ArgumentParser(prog="tools/bench/compute_scheduler_db_bench.py")
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--instances", type=int, default=5000)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--cache-seconds", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        conf, db = database(tmp)
        fill(db, args.hosts, args.instances, rng)
        sched = manager.SchedulerManager(conf, db, rng=rng)
        sched.host_manager.cache_seconds = args.cache_seconds
        hm = sched.host_manager
        options = sched._filter_scheduler().options
        uuids = iter([new_instance(db) for _ in range(args.iterations)])
        ctxt = context.admin_context()
        spec = {"flavor": FLAVOR, "num_instances": 1}
        print("%d hosts, %d instances, %d iterations, host cache %.1f s (ms)"
              % (args.hosts, args.instances, args.iterations, args.cache_seconds))
        beat(db)
        print(_line("decision (select_destinations)", _time(
            lambda: sched.select_destinations(ctxt, spec, [next(uuids)]),
            args.iterations)))
        key = hm._static.key if hm._static is not None else ()
        print(_line("  nodes/services/aggregates read", _time(
            lambda: hm._read_static(key), args.iterations)))
        print(_line("  use summed from instances", _time(hm._use, args.iterations)))
        beat(db)
        print(_line("  host states (cached hosts + use)", _time(
            lambda: hm.host_states(options), args.iterations)))
        beat(db)
        hm.invalidate()
        template = hm.host_states(options)
        core = sched._filter_scheduler()
        typed = sched._spec(spec, ["x"])
        fresh: list[Any] = []

        def copy_states() -> None:
            fresh[:] = [copy.copy(state) for state in template]

        print(_line("  filter scheduler core", _time(
            lambda: core.select_destinations(fresh, typed), args.iterations,
            setup=copy_states)))
        db.dispose()


if __name__ == "__main__":
    main()
