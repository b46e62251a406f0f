"""Live migration and evacuation with real daemons (two fake nodes) and the
real clients.

One cloud with ``fake-node-1`` and ``fake-node-2`` (fake nodes keep their
guests in a file over a clean restart, ``[fake_driver] guests_file``). In
order, in one test (the steps depend on each other; see test_compute_servers):

1. a server booted on fake-node-1 is live-migrated to fake-node-2 (REST,
   microversion 2.25, ``block_migration: auto``): its host, its port's binding,
   the migration (os-migrations, completed), the hypervisors' usage and the
   instance action follow;
2. ``openstack server migrate --live-migration`` (host chosen by the scheduler)
   brings it back to fake-node-1;
3. fake-node-1's process stops and its service is forced down; ``openstack
   server evacuate`` rebuilds the server on fake-node-2 (ACTIVE there,
   migration ``done``);
4. fake-node-1 starts again: its leftover guest of the server is destroyed,
   not started (the migration becomes ``completed``, the guest is gone from its
   hypervisor), and it serves again.
"""
from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any, Iterator

import pytest

from tests.functional.compute.conftest import ComputeCloud
from tests.functional.conftest import IdentityCloud

NODES = ("fake-node-1", "fake-node-2")
GUESTS_FILE = "$state_path/fake-guests-${host}.json"


@pytest.fixture(scope="module")
def cloud(identity_cloud: IdentityCloud, tmp_path_factory: Any) -> Iterator[ComputeCloud]:
    found = ComputeCloud(str(tmp_path_factory.mktemp("compute-moves")), identity_cloud,
                         nodes=NODES,
                         extra_conf="[fake_driver]\nguests_file = %s\n" % GUESTS_FILE)
    yield found
    found.stop()


def _wait(cloud: ComputeCloud, what: str, check: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    pytest.fail("%s: not within %ss (last: %r)\n%s" % (what, timeout, last, cloud.logs()))


def _server(admin: Any, server_id: str) -> dict[str, Any]:
    resp = admin.get("/servers/%s" % server_id)
    assert resp.status_code == 200, resp.text
    return dict(resp.json()["server"])


def _settled(cloud: ComputeCloud, admin: Any, server_id: str, status: str = "ACTIVE"
             ) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        server = _server(admin, server_id)
        if server["status"] == "ERROR":
            pytest.fail("server in ERROR: %s\n%s" % (server.get("fault"), cloud.logs()))
        if server["status"] == status and server["OS-EXT-STS:task_state"] is None:
            return server
        return None
    return dict(_wait(cloud, "server %s %s" % (server_id, status), check))


def _migrations(admin: Any, server_id: str, kind: str) -> list[dict[str, Any]]:
    resp = admin.get("/os-migrations?instance_uuid=%s&migration_type=%s" % (server_id, kind),
                     headers={"OpenStack-API-Version": "compute 2.23"})
    assert resp.status_code == 200, resp.text
    return list(resp.json()["migrations"])


def _usage(admin: Any) -> dict[str, tuple[int, int]]:
    resp = admin.get("/os-hypervisors/detail")
    assert resp.status_code == 200, resp.text
    return {h["hypervisor_hostname"]: (int(h["memory_mb_used"]), int(h["running_vms"]))
            for h in resp.json()["hypervisors"]}


def _binding(cloud: ComputeCloud, server_id: str) -> str:
    resp = cloud.net_api(cloud.session()).get("/v2.0/ports?device_id=%s" % server_id)
    assert resp.status_code == 200, resp.text
    [port] = resp.json()["ports"]
    return str(port["binding:host_id"])


def _force_down(admin: Any, host: str, down: bool) -> None:
    resp = admin.put("/os-services/force-down", json={
        "host": host, "binary": "nova-compute", "forced_down": down},
        headers={"OpenStack-API-Version": "compute 2.11"})
    assert resp.status_code == 200, resp.text


def _guests_file(cloud: ComputeCloud, host: str) -> dict[str, Any]:
    path = os.path.join(cloud.state, "fake-guests-%s.json" % host)
    with open(path) as handle:
        return dict(json.load(handle))


def test_live_migration_and_evacuation(cloud: ComputeCloud) -> None:
    admin = cloud.api(cloud.session())
    resp = admin.post("/flavors", json={"flavor": {"name": "moves.flavor", "ram": 192,
                                                   "vcpus": 1, "disk": 1}})
    assert resp.status_code == 200, resp.text
    flavor = resp.json()["flavor"]["id"]
    net = cloud.net_api(cloud.session())
    resp = net.post("/v2.0/networks", json={"network": {"name": "moves-net"}})
    assert resp.status_code == 201, resp.text
    net_id = resp.json()["network"]["id"]
    resp = net.post("/v2.0/subnets", json={"subnet": {
        "network_id": net_id, "ip_version": 4, "cidr": "10.30.0.0/24"}})
    assert resp.status_code == 201, resp.text
    image_id = cloud.upload_image("moves-image")
    baseline = _usage(admin)

    resp = admin.post("/servers", json={"server": {
        "name": "mover-" + uuid.uuid4().hex[:6], "imageRef": image_id, "flavorRef": flavor,
        "networks": [{"uuid": net_id}], "availability_zone": "nova:fake-node-1"}})
    assert resp.status_code == 202, resp.text
    server_id = resp.json()["server"]["id"]
    server = _settled(cloud, admin, server_id)
    assert server["OS-EXT-SRV-ATTR:host"] == "fake-node-1"
    assert _binding(cloud, server_id) == "fake-node-1"

    # 1. Live migration to a named host (REST, 2.25).
    resp = admin.post("/servers/%s/action" % server_id, json={"os-migrateLive": {
        "host": "fake-node-2", "block_migration": "auto"}},
        headers={"OpenStack-API-Version": "compute 2.25"})
    assert resp.status_code == 202, resp.text
    server = _settled(cloud, admin, server_id)
    assert (server["OS-EXT-SRV-ATTR:host"], server["OS-EXT-SRV-ATTR:hypervisor_hostname"]) \
        == ("fake-node-2", "fake-node-2")
    assert server["OS-EXT-STS:power_state"] == 1
    [migration] = _migrations(admin, server_id, "live-migration")
    assert (migration["status"], migration["source_compute"], migration["dest_compute"]) \
        == ("completed", "fake-node-1", "fake-node-2")
    assert _binding(cloud, server_id) == "fake-node-2"
    usage = _wait(cloud, "usage on fake-node-2", lambda: (
        lambda u: u if u["fake-node-2"][1] == baseline["fake-node-2"][1] + 1 else None)(
        _usage(admin)))
    assert usage["fake-node-2"][0] == baseline["fake-node-2"][0] + 192
    assert usage["fake-node-1"] == baseline["fake-node-1"]
    resp = admin.get("/servers/%s/os-instance-actions" % server_id)
    assert "live-migration" in [a["action"] for a in resp.json()["instanceActions"]]
    resp = admin.get("/servers/%s/migrations" % server_id,
                     headers={"OpenStack-API-Version": "compute 2.23"})
    assert resp.status_code == 200 and resp.json() == {"migrations": []}, resp.text

    # 2. Back with the CLI; the scheduler picks the host (the only other one).
    cloud.openstack("server", "migrate", "--live-migration", "--wait", server_id)
    server = _settled(cloud, admin, server_id)
    assert server["OS-EXT-SRV-ATTR:host"] == "fake-node-1"
    assert _binding(cloud, server_id) == "fake-node-1"
    statuses = [m["status"] for m in _migrations(admin, server_id, "live-migration")]
    assert statuses == ["completed", "completed"]
    # Not while its host is up.
    resp = admin.post("/servers/%s/action" % server_id, json={"evacuate": {}},
                      headers={"OpenStack-API-Version": "compute 2.14"})
    assert resp.status_code == 400, resp.text
    assert "Compute service of fake-node-1 is still in use." in resp.text

    # 3. fake-node-1 fails (its guest survives on its hypervisor); evacuate.
    cloud.node("fake-node-1").stop()
    assert server_id in _guests_file(cloud, "fake-node-1")
    _force_down(admin, "fake-node-1", True)
    # Without --wait: OSC 10.5 waits for "ACTIVE" against a lowercased status (never).
    cloud.openstack("--os-compute-api-version", "2.14", "server", "evacuate", server_id)
    server = _settled(cloud, admin, server_id)
    assert server["OS-EXT-SRV-ATTR:host"] == "fake-node-2"
    assert _binding(cloud, server_id) == "fake-node-2"
    [evacuation] = _migrations(admin, server_id, "evacuation")
    assert (evacuation["status"], evacuation["source_compute"],
            evacuation["dest_compute"]) == ("done", "fake-node-1", "fake-node-2")

    # 4. fake-node-1 comes back: the leftover goes, the server stays on fake-node-2.
    cloud.start_node("fake-node-1")
    _wait(cloud, "the evacuation completed", lambda: _migrations(
        admin, server_id, "evacuation")[0]["status"] == "completed")
    _force_down(admin, "fake-node-1", False)
    cloud.wait_nodes()
    server = _settled(cloud, admin, server_id)
    assert server["OS-EXT-SRV-ATTR:host"] == "fake-node-2"
    cloud.node("fake-node-1").stop()
    assert server_id not in _guests_file(cloud, "fake-node-1")
    with open(cloud.node("fake-node-1").log) as handle:
        assert "it was evacuated to fake-node-2" in handle.read()
    cloud.start_node("fake-node-1")
    cloud.wait_nodes()

    resp = admin.delete("/servers/%s" % server_id)
    assert resp.status_code == 204, resp.text
