"""The resource tracker: claims against the scheduler's limits never overbook,
even with many builds at once; resyncs from the host's instances; reports."""
from __future__ import annotations

import concurrent.futures
import threading
import time
from typing import Any, Iterator

import pytest

from compute import exception
from compute import states
from compute.node import resource_tracker as rt
from compute.virt import fake
from tests.fixtures import compute_node as fx

# What the scheduler computes for a node of 8 vCPUs, 1 GiB, 100 GB with ratios 1.0.
TIGHT = {"vcpu": 8.0, "memory_mb": 1024.0, "disk_gb": 100.0}


@pytest.fixture
def cloud(tmp_path: Any) -> Iterator[fx.Cloud]:
    found = fx.Cloud(str(tmp_path), max_concurrent_builds=0)
    yield found
    found.close()


def _tracker(cloud: fx.Cloud, **size: int) -> rt.ResourceTracker:
    driver = fake.FakeDriver("node-1", **(size or {"vcpus": 8, "memory_mb": 1024,
                                                   "local_gb": 100}))
    return rt.ResourceTracker(cloud.conf, "node-1", driver, cloud.conductor)


def test_concurrent_claims_never_overbook(cloud: fx.Cloud) -> None:
    tracker = _tracker(cloud)
    start = threading.Barrier(40)
    won, lost = [], []

    def claim(n: int) -> None:
        start.wait()
        try:
            tracker.instance_claim(None, {"uuid": "i%d" % n, "vcpus": 1, "memory_mb": 128,
                                          "root_gb": 1}, TIGHT)
            won.append(n)
        except exception.ComputeResourcesUnavailable as err:
            assert "memory" in err.message or "vCPU" in err.message
            lost.append(n)
    threads = [threading.Thread(target=claim, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 8 and len(lost) == 32
    report = cloud.conductor.last_report()
    assert (report["vcpus_used"], report["memory_mb_used"], report["running_vms"]) == \
        (8, 1024, 8)


def test_concurrent_builds_never_overbook_a_node(cloud: fx.Cloud) -> None:
    node = cloud.add_node("node-1", vcpus=8, memory_mb=1024, local_gb=100, inline=False)
    node.init_host()
    slow_spawn = node.driver.spawn

    def spawn(*args: Any, **kwargs: Any) -> None:
        time.sleep(0.01)  # builds overlap
        slow_spawn(*args, **kwargs)
    node.driver.spawn = spawn  # type: ignore[method-assign]
    made = [cloud.conductor.new_instance("node-1") for _ in range(20)]
    for inst in made:
        node.build_and_run_instance(fx.ctxt(), inst["uuid"], {"retry": {"max_attempts": 3}},
                                    TIGHT, "node-1")

    def settled(row: dict[str, Any]) -> bool:  # built, or handed back for a reschedule
        return row["vm_state"] == states.ACTIVE or (
            row["task_state"] == states.SCHEDULING and row["host"] is None)
    deadline = time.monotonic() + 20
    while True:
        rows = [cloud.conductor.store.get(i["uuid"]) for i in made]
        # A failed build casts its reschedule last.
        if all(settled(r) for r in rows) and len(cloud.conductor.reschedules) == \
                sum(1 for r in rows if r["vm_state"] != states.ACTIVE):
            break
        assert time.monotonic() < deadline
        time.sleep(0.02)
    active = [r for r in rows if r["vm_state"] == states.ACTIVE]
    assert len(active) == 8
    assert len(cloud.conductor.reschedules) == 12
    assert len(node.driver.list_instance_uuids()) == 8
    node._update_available_resource(fx.ctxt())
    report = cloud.conductor.last_report()
    assert (report["vcpus_used"], report["memory_mb_used"], report["running_vms"]) == \
        (8, 1024, 8)


def test_no_limit_no_check(cloud: fx.Cloud) -> None:
    tracker = _tracker(cloud, vcpus=1, memory_mb=128, local_gb=1)
    for n in range(3):
        tracker.instance_claim(None, {"uuid": "i%d" % n, "vcpus": 1, "memory_mb": 128}, {})
    tracker.instance_claim(None, {"uuid": "i3", "vcpus": 1, "memory_mb": 128},
                           {"vcpu": 16.0})
    assert len(tracker.claims()) == 4
    with pytest.raises(exception.ComputeResourcesUnavailable, match="free vCPU 12"):
        tracker.instance_claim(None, {"uuid": "big", "vcpus": 13, "memory_mb": 1},
                               {"vcpu": 16.0})
    # Claiming again for the same instance replaces its claim (no double count).
    tracker.instance_claim(None, {"uuid": "i3", "vcpus": 13, "memory_mb": 128},
                           {"vcpu": 16.0})


def test_resync_counts_the_hosts_instances(cloud: fx.Cloud) -> None:
    tracker = _tracker(cloud)
    live = cloud.conductor.new_instance("node-1", vm_state=states.ACTIVE, task_state=None)
    building = cloud.conductor.new_instance("node-1")
    failed = cloud.conductor.new_instance("node-1", vm_state=states.ERROR, task_state=None)
    broken = cloud.conductor.new_instance("node-1", vm_state=states.ERROR, task_state=None)
    gone = cloud.conductor.new_instance("node-1", vm_state=states.ACTIVE, task_state=None)
    cloud.conductor.store.destroy(gone["uuid"])
    cloud.conductor.new_instance("node-2", vm_state=states.ACTIVE, task_state=None)
    driver = tracker.driver
    assert isinstance(driver, fake.FakeDriver)
    from compute.node import base
    from compute.virt import model
    driver.spawn(None, base.driver_instance(broken), model.ImageMeta(id="i"), [])
    tracker.instance_claim(None, {"uuid": "stale", "vcpus": 4, "memory_mb": 512}, {})
    report = tracker.update_available_resource(None)
    assert set(tracker.claims()) == {live["uuid"], building["uuid"], broken["uuid"]}
    assert report is not None and report["running_vms"] == 3
    assert failed["uuid"] not in tracker.claims()
    # A released instance stays released while its row still names this host.
    tracker.release(None, building["uuid"])
    tracker.update_available_resource(None)
    assert building["uuid"] not in tracker.claims()


def test_report_has_reserved_use_and_ratios(tmp_path: Any) -> None:
    cloud = fx.Cloud(str(tmp_path), reserved_host_memory_mb=256, reserved_host_cpus=1,
                     reserved_host_disk_mb=1536, cpu_allocation_ratio=4.0)
    try:
        tracker = _tracker(cloud)
        report = tracker.update_available_resource(None)
        assert report is not None
        assert (report["vcpus_used"], report["memory_mb_used"], report["local_gb_used"]) == \
            (1, 256, 2)
        assert (report["vcpus"], report["memory_mb"], report["local_gb"]) == (8, 1024, 100)
        assert report["cpu_allocation_ratio"] == 4.0 and report["ram_allocation_ratio"] == 0.0
        assert report["hypervisor_type"] == "fake" and report["hypervisor_hostname"] == "node-1"
        node = cloud.conductor.hosts.compute_node_list("node-1")[0]
        assert node["memory_mb_used"] == 256 and node["cpu_allocation_ratio"] == 4.0
        with pytest.raises(exception.ComputeResourcesUnavailable):
            tracker.instance_claim(None, {"uuid": "x", "vcpus": 1, "memory_mb": 800}, TIGHT)
    finally:
        cloud.close()


def test_migration_claims_survive_resyncs_until_the_migration_ends(cloud: fx.Cloud) -> None:
    tracker = _tracker(cloud)
    cloud.conductor.migration_update(None, "m1", {"status": "pre-migrating",
                                                  "instance_uuid": "i1"})
    tracker.resize_claim(None, "m1", fx.BIG, TIGHT)
    tracker.update_available_resource(None)
    assert rt.incoming("m1") in tracker.claims()
    cloud.conductor.migration_update(None, "m1", {"status": "error"})
    tracker.update_available_resource(None)
    assert tracker.claims() == {}


def test_claims_from_many_threads_with_a_pool(cloud: fx.Cloud) -> None:
    tracker = _tracker(cloud, vcpus=64, memory_mb=65536, local_gb=1000)
    limits = {"vcpu": 100.0, "memory_mb": 65536.0, "disk_gb": 1000.0}

    def claim_and_release(n: int) -> None:
        tracker.instance_claim(None, {"uuid": "i%d" % n, "vcpus": 1, "memory_mb": 64}, limits)
        if n % 2:
            tracker.release(None, "i%d" % n)
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(claim_and_release, range(100)))
    assert len(tracker.claims()) == 50
    assert cloud.conductor.last_report()["vcpus_used"] == 50
