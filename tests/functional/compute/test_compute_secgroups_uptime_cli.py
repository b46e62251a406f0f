"""A server's security groups and a hypervisor's uptime through the real clients
against real compute daemons (fake driver) and the real network server: ``openstack
server add/remove security group`` change the groups of the server's port in the
network service and what the server shows; ``openstack hypervisor show`` reads the
node's uptime (os-hypervisors/{id}/uptime, asked of the node over RabbitMQ).

One test with ordered steps, as test_compute_servers.py does (one cloud per module,
never spread over xdist workers)."""
from __future__ import annotations

import json
import time
from typing import Any

from tests.functional.compute.conftest import ComputeCloud

NODE = "fake-node-1"
DEMO = ("sgdemo", "sgdemo-pw", "sgdemo")


def _wait_active(api: Any, server_id: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    server: dict[str, Any] = {}
    while time.monotonic() < deadline:
        server = api.get("/servers/%s" % server_id).json()["server"]
        if server["status"] == "ACTIVE" and server.get("OS-EXT-STS:task_state") is None:
            return server
        assert server["status"] != "ERROR", server
        time.sleep(0.1)
    raise AssertionError("server not ACTIVE: %s" % server)


def test_security_groups_and_uptime_with_the_clients(compute_cloud: ComputeCloud) -> None:
    cloud = compute_cloud
    project_id, _ = cloud.user(DEMO[2], DEMO[0], DEMO[1])
    env = cloud.env(*DEMO)
    sess = cloud.session(*DEMO)
    demo, net_api = cloud.api(sess), cloud.net_api(sess)
    admin_net = cloud.net_api(cloud.session())
    admin = cloud.api(cloud.session())

    # A flavor, an image, a network of the project, and a server on it.
    resp = admin.post("/flavors", json={"flavor": {"name": "sg.tiny", "ram": 128,
                                                   "vcpus": 1, "disk": 1}})
    assert resp.status_code == 200, resp.text
    flavor = resp.json()["flavor"]["id"]
    net = net_api.post("/v2.0/networks", json={"network": {"name": "sg-net"}}).json()
    net_id = net["network"]["id"]
    resp = net_api.post("/v2.0/subnets", json={"subnet": {
        "network_id": net_id, "ip_version": 4, "cidr": "10.30.0.0/24"}})
    assert resp.status_code == 201, resp.text
    resp = demo.post("/servers", json={"server": {
        "name": "sg-vm", "imageRef": cloud.upload_image("sg-image"), "flavorRef": flavor,
        "networks": [{"uuid": net_id}]}})
    assert resp.status_code == 202, resp.text
    server_id = resp.json()["server"]["id"]
    assert _wait_active(demo, server_id)["security_groups"] == [{"name": "default"}]

    def port_group_names() -> list[list[str]]:
        ports = admin_net.get("/v2.0/ports?device_id=%s" % server_id).json()["ports"]
        groups = {g["id"]: g["name"] for g in admin_net.get(
            "/v2.0/security-groups?project_id=%s" % project_id).json()["security_groups"]}
        return [sorted(groups[g] for g in p["security_groups"]) for p in ports]

    assert port_group_names() == [["default"]]

    # The CLI: a group of the project added, by name; the server shows both.
    cloud.openstack("security", "group", "create", "web", env=env)
    cloud.openstack("server", "add", "security", "group", server_id, "web", env=env)
    assert port_group_names() == [["default", "web"]]
    shown = demo.get("/servers/%s" % server_id).json()["server"]
    assert sorted(g["name"] for g in shown["security_groups"]) == ["default", "web"]
    listed = demo.get("/servers/%s/os-security-groups" % server_id).json()
    assert [g["name"] for g in listed["security_groups"]] == ["default", "web"]
    assert all(g["tenant_id"] == project_id for g in listed["security_groups"])

    # Both removed: the server shows no security_groups (Tempest's check).
    for group in ("default", "web"):
        cloud.openstack("server", "remove", "security", "group", server_id, group, env=env)
    assert port_group_names() == [[]]
    assert "security_groups" not in demo.get("/servers/%s" % server_id).json()["server"]
    resp = demo.post("/servers/%s/action" % server_id,
                     json={"removeSecurityGroup": {"name": "web"}})
    assert resp.status_code == 404, resp.text
    resp = demo.post("/servers/%s/action" % server_id,
                     json={"addSecurityGroup": {"name": "no-such-group"}})
    assert resp.status_code == 404, resp.text

    # The hypervisor's uptime: from the node over the bus, parsed by the CLI.
    hypervisors = admin.get("/os-hypervisors").json()["hypervisors"]
    (hyp,) = [h for h in hypervisors if h["hypervisor_hostname"] == NODE]
    resp = admin.get("/os-hypervisors/%s/uptime" % hyp["id"])
    assert resp.status_code == 200, resp.text
    assert " load average: 0.00, 0.00, 0.00" in resp.json()["hypervisor"]["uptime"]
    assert demo.get("/os-hypervisors/%s/uptime" % hyp["id"]).status_code == 403
    out = json.loads(cloud.openstack("hypervisor", "show", "-f", "json", NODE).stdout)
    assert out["users"] == "0" and out["load_average"] == "0.00, 0.00, 0.00", out
    assert "min" in out["uptime"] or ":" in out["uptime"], out
    demo.delete("/servers/%s" % server_id)
