"""Rescue and unrescue through the real clients against real compute daemons
(fake driver), and a compute node killed (SIGKILL) in the middle of a rescue.

The fake driver's boots are made slow (``[fake_driver] spawn_delay``: a build
and a rescue each take that long), so the kill lands while the server is
``rescuing`` on the node; the restarted node undoes the rescue: the server is
ACTIVE again, never stuck in a task.
"""
from __future__ import annotations

import json
import time
from typing import Any, Iterator

import pytest

from tests.functional.compute.conftest import ComputeCloud
from tests.functional.conftest import IdentityCloud

NODE = "fake-node-1"
SPAWN_DELAY = 3.0
USER = ("rescuer", "rescuer-pw", "rescuers")


@pytest.fixture(scope="module")
def cloud(identity_cloud: IdentityCloud, tmp_path_factory: Any) -> Iterator[ComputeCloud]:
    found = ComputeCloud(str(tmp_path_factory.mktemp("compute-rescue")), identity_cloud,
                         extra_conf="[fake_driver]\nspawn_delay = %s\n" % SPAWN_DELAY)
    yield found
    found.stop()


def _wait(cloud: ComputeCloud, api: Any, server_id: str, status: str,
          timeout: float = 60.0) -> dict[str, Any]:
    """Until the server has ``status`` and no task."""
    deadline = time.monotonic() + timeout
    server: dict[str, Any] = {}
    while time.monotonic() < deadline:
        resp = api.get("/servers/%s" % server_id)
        assert resp.status_code == 200, resp.text
        server = resp.json()["server"]
        if server["status"] == status and server.get("OS-EXT-STS:task_state") is None:
            return dict(server)
        if server["status"] == "ERROR" and status != "ERROR":
            pytest.fail("server went to ERROR: %s\n%s" % (server.get("fault"), cloud.logs()))
        time.sleep(0.1)
    pytest.fail("server %s is %s (task %s), not %s after %ss\n%s" % (
        server_id, server.get("status"), server.get("OS-EXT-STS:task_state"), status,
        timeout, cloud.logs()))


def _events(api: Any, server_id: str) -> dict[str, list[str]]:
    """action -> the results of its events (admin view)."""
    found: dict[str, list[str]] = {}
    for action in api.get("/servers/%s/os-instance-actions" % server_id).json()[
            "instanceActions"]:
        shown = api.get("/servers/%s/os-instance-actions/%s" % (
            server_id, action["request_id"])).json()["instanceAction"]
        found.setdefault(action["action"], []).extend(
            "%s:%s" % (e["event"], e["result"]) for e in shown.get("events") or [])
    return found


@pytest.fixture(scope="module")
def booted(cloud: ComputeCloud) -> dict[str, Any]:
    cloud.user(USER[2], USER[0], USER[1])
    admin = cloud.api(cloud.session())
    resp = admin.post("/flavors", json={"flavor": {"name": "rescue.tiny", "ram": 64,
                                                   "vcpus": 1, "disk": 1}})
    assert resp.status_code == 200, resp.text
    image_id = cloud.upload_image("rescue-image")
    rescue_image = cloud.upload_image("rescue-other-image")
    env = cloud.env(*USER)
    out = cloud.openstack("server", "create", "--image", image_id, "--flavor", "rescue.tiny",
                          "--wait", "-f", "json", "rescued-vm", env=env).stdout
    server = dict(json.loads(out))
    assert server["status"] == "ACTIVE", server
    return {"id": server["id"], "image": image_id, "rescue_image": rescue_image}


def test_rescue_and_unrescue_with_the_clients(cloud: ComputeCloud,
                                              booted: dict[str, Any]) -> None:
    env = cloud.env(*USER)
    api = cloud.api(cloud.session(*USER))
    admin = cloud.api(cloud.session())
    server_id = booted["id"]
    # The CLI, with another image and a password.
    cloud.openstack("server", "rescue", "--image", booted["rescue_image"], "--password",
                    "rescue-pw-1", server_id, env=env)
    _wait(cloud, api, server_id, "RESCUE")
    console = api.post("/servers/%s/action" % server_id,
                       json={"os-getConsoleOutput": {}}).json()["output"]
    assert "fake-guest: rescue: booting image %s" % booted["rescue_image"] in console
    # Wrong states answer 409; a second rescue too.
    resp = api.post("/servers/%s/action" % server_id, json={"rescue": None})
    assert resp.status_code == 409, resp.text
    assert "vm_state rescued" in resp.json()["conflictingRequest"]["message"]
    cloud.openstack("server", "unrescue", server_id, env=env)
    _wait(cloud, api, server_id, "ACTIVE")
    resp = api.post("/servers/%s/action" % server_id, json={"unrescue": None})
    assert resp.status_code == 409, resp.text
    # The raw API: 200 with the generated password; from SHUTOFF too.
    resp = api.post("/servers/%s/action" % server_id, json={"os-stop": None})
    assert resp.status_code == 202, resp.text
    _wait(cloud, api, server_id, "SHUTOFF")
    resp = api.post("/servers/%s/action" % server_id, json={"rescue": {}})
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["adminPass"]) >= 8
    shown = _wait(cloud, api, server_id, "RESCUE")
    assert shown["OS-EXT-STS:vm_state"] == "rescued"
    assert shown["OS-EXT-STS:power_state"] == 1
    resp = api.post("/servers/%s/action" % server_id, json={"unrescue": None})
    assert resp.status_code == 202, resp.text
    shown = _wait(cloud, api, server_id, "ACTIVE")
    assert shown["OS-EXT-STS:power_state"] == 1
    events = _events(admin, server_id)
    assert events["rescue"] == ["compute_rescue_instance:Success"] * 2
    assert events["unrescue"] == ["compute_unrescue_instance:Success"] * 2


def test_a_node_killed_mid_rescue_undoes_it(cloud: ComputeCloud,
                                            booted: dict[str, Any]) -> None:
    api = cloud.api(cloud.session(*USER))
    server_id = booted["id"]
    _wait(cloud, api, server_id, "ACTIVE")
    resp = api.post("/servers/%s/action" % server_id, json={"rescue": None})
    assert resp.status_code == 200, resp.text
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        server = api.get("/servers/%s" % server_id).json()["server"]
        if server.get("OS-EXT-STS:task_state") == "rescuing":
            break
        time.sleep(0.05)
    # The rescue sleeps SPAWN_DELAY in the driver: the node dies in the middle of it.
    time.sleep(SPAWN_DELAY / 3)
    cloud.kill_node(NODE)
    server = api.get("/servers/%s" % server_id).json()["server"]
    assert (server["status"], server["OS-EXT-STS:task_state"]) == ("ACTIVE", "rescuing")
    cloud.start_node(NODE)
    shown = _wait(cloud, api, server_id, "ACTIVE")
    assert shown["OS-EXT-STS:vm_state"] == "active"
    # A fake node's guests die with it: the restarted node records the guest gone.
    assert shown["OS-EXT-STS:power_state"] == 4
