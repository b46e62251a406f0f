"""Probe: a compute node killed (SIGKILL) in the middle of a boot and started
again leaves the server ACTIVE, or ERROR with a fault, never stuck in BUILD;
an ERROR server's claim is freed (os-hypervisors does not count it) and the
server can be deleted.

The fake driver's spawn is made slow (``[fake_driver] spawn_delay``) so the
kill lands while the server is BUILD/spawning on the node.
"""
from __future__ import annotations

import time
import uuid
from typing import Any, Iterator

import pytest

from tests.functional.compute.conftest import ComputeCloud
from tests.functional.conftest import IdentityCloud

NODE = "fake-node-1"
SPAWN_DELAY = 6.0
USER = ("probe", "probe-pw", "probe")


@pytest.fixture(scope="module")
def slow_cloud(identity_cloud: IdentityCloud, tmp_path_factory: Any) -> Iterator[ComputeCloud]:
    cloud = ComputeCloud(str(tmp_path_factory.mktemp("compute-restart")), identity_cloud,
                         extra_conf="[fake_driver]\nspawn_delay = %s\n" % SPAWN_DELAY)
    yield cloud
    cloud.stop()


def _hypervisor(admin: Any) -> dict[str, Any]:
    resp = admin.get("/os-hypervisors/detail")
    assert resp.status_code == 200, resp.text
    (hyp,) = [h for h in resp.json()["hypervisors"] if h["hypervisor_hostname"] == NODE]
    return dict(hyp)


def _usage(admin: Any) -> tuple[int, int, int]:
    hyp = _hypervisor(admin)
    return int(hyp["vcpus_used"]), int(hyp["memory_mb_used"]), int(hyp["running_vms"])


def _wait(what: str, check: Any, cloud: ComputeCloud, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.1)
    pytest.fail("%s: not within %ss (last: %r)\n%s" % (what, timeout, last, cloud.logs()))


def test_node_killed_during_spawn_never_leaves_build(slow_cloud: ComputeCloud) -> None:
    cloud = slow_cloud
    cloud.user(USER[2], USER[0], USER[1])
    admin = cloud.api(cloud.session())
    api = cloud.api(cloud.session(*USER))
    resp = admin.post("/flavors", json={"flavor": {"name": "probe.flavor", "ram": 512,
                                                   "vcpus": 3, "disk": 1}})
    assert resp.status_code == 200, resp.text
    flavor = resp.json()["flavor"]
    image_id = cloud.upload_image("probe-image")
    baseline = _usage(admin)

    resp = api.post("/servers", json={"server": {
        "name": "probe-" + uuid.uuid4().hex[:6], "imageRef": image_id,
        "flavorRef": flavor["id"], "networks": "none"}},
        headers={"X-OpenStack-Nova-API-Version": "2.37"})
    if resp.status_code == 406 or (resp.status_code == 400 and "none" in resp.text):
        # Before microversion 2.37 "none" does not exist: no networks key at all.
        resp = api.post("/servers", json={"server": {
            "name": "probe-" + uuid.uuid4().hex[:6], "imageRef": image_id,
            "flavorRef": flavor["id"]}})
    assert resp.status_code == 202, resp.text
    server_id = resp.json()["server"]["id"]

    def spawning() -> dict[str, Any] | None:
        server = admin.get("/servers/%s" % server_id).json()["server"]
        assert server["status"] in ("BUILD", "ACTIVE", "ERROR"), server
        if server["status"] != "BUILD":
            pytest.fail("the server left BUILD before the kill (spawn_delay %ss too short?): "
                        "%s" % (SPAWN_DELAY, server))
        return server if server.get("OS-EXT-STS:task_state") == "spawning" else None

    server = _wait("server BUILD/spawning", spawning, cloud, 30)
    assert server["OS-EXT-SRV-ATTR:host"] == NODE, server
    cloud.kill_node(NODE)
    time.sleep(0.5)
    server = admin.get("/servers/%s" % server_id).json()["server"]
    assert server["status"] == "BUILD", server  # nobody else finished it meanwhile

    cloud.start_node(NODE)

    def settled() -> dict[str, Any] | None:
        cloud.check_alive()
        server = admin.get("/servers/%s" % server_id).json()["server"]
        if server["status"] in ("ACTIVE", "ERROR") and not server.get(
                "OS-EXT-STS:task_state"):
            # The node records ERROR, then the fault: a read between sees no fault yet.
            if server["status"] == "ERROR" and not server.get("fault"):
                return None
            return dict(server)
        return None

    server = _wait("server ACTIVE or ERROR after the node's restart", settled, cloud, 60)
    if server["status"] == "ERROR":
        fault = server.get("fault") or {}
        assert fault.get("message") and fault.get("code"), server
        # The failed boot's claim is freed: the node does not count the server.
        _wait("the hypervisor's use back to %s" % (baseline,),
              lambda: _usage(admin) == baseline, cloud, 30)
    else:
        want = (baseline[0] + 3, baseline[1] + 512, baseline[2] + 1)
        _wait("the hypervisor's use to count the server (%s)" % (want,),
              lambda: _usage(admin) == want, cloud, 30)
        assert server["OS-EXT-STS:power_state"] == 1, server
    actions = api.get("/servers/%s/os-instance-actions" % server_id).json()
    assert [a["action"] for a in actions["instanceActions"]] == ["create"], actions

    resp = api.delete("/servers/%s" % server_id)
    assert resp.status_code == 204, resp.text

    def gone() -> bool:
        return bool(api.get("/servers/%s" % server_id).status_code == 404)

    _wait("the server deleted", gone, cloud, 30)
    _wait("the hypervisor's use back to %s after delete" % (baseline,),
          lambda: _usage(admin) == baseline, cloud, 30)
