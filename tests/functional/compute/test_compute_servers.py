"""Servers through the real clients against real compute daemons (fake driver).

One module-scoped cloud (identity, image, network server, and the compute api,
conductor, scheduler, metadata and one node ``fake-node-1``).

``test_server_lifecycle_with_the_clients`` boots a server with ``openstack
server create --wait`` and takes it through its life in order, with the CLI
and openstacksdk: addresses from the network service, power actions, a 409 in
the wrong state, resize with confirm and revert, a snapshot into the image
service, console log, instance actions, hypervisors and services, another
project's view, Nova's exact 4xx codes for bad input, over quota, another
project's server, bad microversions (raw REST calls), and delete (the port goes
too). The steps are one test so that pytest-xdist can neither spread them over
workers (breaking their order) nor start a second cloud for them; a failing step
is recorded and the next ones still run, and the test fails listing every
failed step.
"""
from __future__ import annotations

import dataclasses
import json
import time
import uuid
from typing import Any

import pytest

from tests.functional.compute.conftest import ComputeCloud

NODE = "fake-node-1"
DEMO = ("demo", "demo-pw", "demo")
ALT = ("alt", "alt-pw", "alt")
QUOTA = ("quota", "quota-pw", "quota")


@dataclasses.dataclass
class World:
    cloud: ComputeCloud
    image_id: str
    small: str
    big: str
    net_id: str
    net_name: str
    demo_project: str
    demo: Any  # keystoneauth Adapter on compute, as demo
    admin: Any  # the same as admin
    sdk: Any  # openstacksdk Connection, as demo

    def demo_env(self) -> dict[str, str]:
        user, password, project = DEMO
        return self.cloud.env(user, password, project)


def _make_network(cloud: ComputeCloud, sess: Any, name: str, cidr: str) -> str:
    net_api = cloud.net_api(sess)
    resp = net_api.post("/v2.0/networks", json={"network": {"name": name}})
    assert resp.status_code == 201, resp.text
    net_id = str(resp.json()["network"]["id"])
    resp = net_api.post("/v2.0/subnets", json={"subnet": {
        "network_id": net_id, "ip_version": 4, "cidr": cidr, "name": name + "-subnet"}})
    assert resp.status_code == 201, resp.text
    return net_id


def _sdk(cloud: ComputeCloud, user: str, password: str, project: str) -> Any:
    import openstack

    return openstack.connect(auth_url=cloud.identity.auth_url, username=user,
                             password=password, project_name=project,
                             user_domain_name="Default", project_domain_name="Default",
                             region_name="RegionOne", interface="public",
                             identity_api_version="3")


@pytest.fixture(scope="module")
def world(compute_cloud: ComputeCloud) -> World:
    cloud = compute_cloud
    demo_project, _ = cloud.user(DEMO[2], DEMO[0], DEMO[1])
    cloud.user(ALT[2], ALT[0], ALT[1])
    cloud.user(QUOTA[2], QUOTA[0], QUOTA[1])
    admin = cloud.api(cloud.session())
    flavors = {}
    for name, ram, vcpus in (("func.small", 128, 1), ("func.big", 256, 2)):
        resp = admin.post("/flavors", json={"flavor": {"name": name, "ram": ram,
                                                       "vcpus": vcpus, "disk": 1}})
        assert resp.status_code == 200, resp.text
        flavors[name] = str(resp.json()["flavor"]["id"])
    demo_sess = cloud.session(*DEMO)
    net_id = _make_network(cloud, demo_sess, "demo-net", "10.20.0.0/24")
    return World(cloud=cloud, image_id=cloud.upload_image("func-image"),
                 small=flavors["func.small"], big=flavors["func.big"], net_id=net_id,
                 net_name="demo-net", demo_project=demo_project,
                 demo=cloud.api(demo_sess), admin=admin,
                 sdk=_sdk(cloud, *DEMO))


def wait_server(world: World, server_id: str, status: str, api: Any = None,
                timeout: float = 30.0) -> dict[str, Any]:
    """Until the server has ``status`` and no task (``DELETED``: until 404)."""
    api = api or world.admin
    deadline = time.monotonic() + timeout
    server: dict[str, Any] = {}
    while time.monotonic() < deadline:
        resp = api.get("/servers/%s" % server_id)
        if status == "DELETED" and resp.status_code == 404:
            return {}
        assert resp.status_code == 200, resp.text
        server = resp.json()["server"]
        if server["status"] == status and server.get("OS-EXT-STS:task_state") is None:
            return dict(server)
        if server["status"] == "ERROR" and status != "ERROR":
            pytest.fail("server %s went to ERROR waiting for %s: %s\n%s" % (
                server_id, status, server.get("fault"), world.cloud.logs()))
        time.sleep(0.1)
    pytest.fail("server %s is %s (task %s) after %ss, not %s\n%s" % (
        server_id, server.get("status"), server.get("OS-EXT-STS:task_state"), timeout,
        status, world.cloud.logs()))


def action(api: Any, server_id: str, body: dict[str, Any]) -> Any:
    return api.post("/servers/%s/action" % server_id, json=body)


def assert_error(resp: Any, code: int) -> None:
    """Nova's error format: ``{"<kind>": {"code": code, "message": ...}}``."""
    assert resp.status_code == code, "%s %s" % (resp.status_code, resp.text)
    body = resp.json()
    (detail,) = body.values()
    assert detail["code"] == code and detail["message"], body


def server_body(world: World, **overrides: Any) -> dict[str, Any]:
    body = {"name": "x-" + uuid.uuid4().hex[:6], "imageRef": world.image_id,
            "flavorRef": world.small, "networks": [{"uuid": world.net_id}]}
    body.update(overrides)
    return {"server": body}


def boot_with_cli(world: World) -> dict[str, Any]:
    """vm1 booted with the CLI (keypair k, demo-net), as the CLI shows it."""
    env = world.demo_env()
    key = world.cloud.openstack("keypair", "create", "k", env=env)
    assert "PRIVATE KEY" in key.stdout, key.stdout
    out = world.cloud.openstack("server", "create", "--image", world.image_id, "--flavor",
                                world.small, "--network", world.net_id, "--key-name", "k",
                                "--wait", "-f", "json", "vm1", env=env).stdout
    return dict(json.loads(out))


def check_create_and_addresses(world: World,
                                                                booted: dict[str, Any]
                                                                ) -> None:
    assert booted["status"] == "ACTIVE", booted
    server_id = booted["id"]
    env = world.demo_env()
    shown = json.loads(world.cloud.openstack("server", "show", "-f", "json", server_id,
                                             env=env).stdout)
    assert shown["status"] == "ACTIVE" and shown["key_name"] == "k", shown
    listed = json.loads(world.cloud.openstack("server", "list", "-f", "json",
                                              env=env).stdout)
    assert [s["Name"] for s in listed if s["ID"] == server_id] == ["vm1"], listed

    ports = world.cloud.net_api(world.cloud.session()).get(
        "/v2.0/ports?device_id=%s" % server_id).json()["ports"]
    assert len(ports) == 1, ports
    port = ports[0]
    assert port["binding:host_id"] == NODE and port["device_owner"].startswith("compute:")
    ip = port["fixed_ips"][0]["ip_address"]
    # The CLI's addresses, the REST addresses and the port agree.
    assert ip in json.dumps(shown["addresses"]), shown["addresses"]
    assert ip in json.dumps(listed), listed
    server = world.demo.get("/servers/%s" % server_id).json()["server"]
    addrs = server["addresses"][world.net_name]
    assert [a["addr"] for a in addrs] == [ip], server["addresses"]
    assert addrs[0]["OS-EXT-IPS-MAC:mac_addr"] == port["mac_address"]
    admin_view = world.admin.get("/servers/%s" % server_id).json()["server"]
    assert admin_view["OS-EXT-SRV-ATTR:host"] == NODE
    assert admin_view["OS-EXT-STS:vm_state"] == "active"
    assert admin_view["OS-EXT-STS:power_state"] == 1


def check_power_actions(world: World, booted: dict[str, Any]) -> None:
    server_id = booted["id"]
    sdk = world.sdk.compute
    steps = [(sdk.stop_server, (), "SHUTOFF", 4), (sdk.start_server, (), "ACTIVE", 1),
             (sdk.reboot_server, ("SOFT",), "ACTIVE", 1),
             (sdk.reboot_server, ("HARD",), "ACTIVE", 1),
             (sdk.pause_server, (), "PAUSED", 3), (sdk.unpause_server, (), "ACTIVE", 1),
             (sdk.suspend_server, (), "SUSPENDED", 7), (sdk.resume_server, (), "ACTIVE", 1)]
    for call, args, status, power in steps:
        call(server_id, *args)
        server = wait_server(world, server_id, status)
        assert server["OS-EXT-STS:power_state"] == power, (call.__name__, server)


def check_wrong_state_is_409(world: World, booted: dict[str, Any]) -> None:
    server_id = booted["id"]
    world.sdk.compute.stop_server(server_id)
    wait_server(world, server_id, "SHUTOFF")
    assert_error(action(world.demo, server_id, {"pause": None}), 409)
    assert_error(action(world.demo, server_id, {"os-stop": None}), 409)
    assert_error(action(world.demo, server_id, {"resume": None}), 409)
    world.sdk.compute.start_server(server_id)
    wait_server(world, server_id, "ACTIVE")


def _flavor_id(world: World, server_id: str) -> str:
    # Microversion 2.1: the flavor is a reference with its id.
    return str(world.demo.get("/servers/%s" % server_id).json()["server"]["flavor"]["id"])


def check_resize_and_confirm(world: World, booted: dict[str, Any]) -> None:
    server_id = booted["id"]
    world.sdk.compute.resize_server(server_id, world.big)
    server = wait_server(world, server_id, "VERIFY_RESIZE")
    assert server["OS-EXT-STS:vm_state"] == "resized"
    world.cloud.openstack("server", "resize", "confirm", server_id, env=world.demo_env())
    wait_server(world, server_id, "ACTIVE")
    assert _flavor_id(world, server_id) == world.big


def check_resize_and_revert(world: World, booted: dict[str, Any]) -> None:
    server_id = booted["id"]
    world.sdk.compute.resize_server(server_id, world.small)
    wait_server(world, server_id, "VERIFY_RESIZE")
    assert _flavor_id(world, server_id) == world.small
    world.sdk.compute.revert_server_resize(server_id)
    server = wait_server(world, server_id, "ACTIVE")
    assert server["OS-EXT-STS:power_state"] == 1
    assert _flavor_id(world, server_id) == world.big


def check_image_create(world: World,
                                                   booted: dict[str, Any]) -> None:
    out = world.cloud.openstack("server", "image", "create", "--name", "vm1-snap",
                                "-f", "json", booted["id"], env=world.demo_env()).stdout
    image_id = json.loads(out)["id"]
    image_api = world.cloud.image_api(world.cloud.session(*DEMO))
    deadline = time.monotonic() + 30
    while True:
        image = image_api.get("/v2/images/%s" % image_id).json()
        if image["status"] == "active" or time.monotonic() > deadline:
            break
        assert image["status"] in ("queued", "saving"), image
        time.sleep(0.2)
    assert image["status"] == "active" and image["name"] == "vm1-snap", image
    wait_server(world, booted["id"], "ACTIVE")
    assert image.get("instance_uuid") == booted["id"], image
    assert image_api.delete("/v2/images/%s" % image_id).status_code == 204


def check_shelve_and_unshelve(world: World, booted: dict[str, Any]) -> None:
    """shelve offloads at once (shelved_offload_time 0): the guest leaves the host
    and its snapshot waits in the image service; unshelve schedules it again."""
    server_id = booted["id"]
    world.sdk.compute.shelve_server(server_id)
    server = wait_server(world, server_id, "SHELVED_OFFLOADED")
    admin_view = world.admin.get("/servers/%s" % server_id).json()["server"]
    assert admin_view["OS-EXT-SRV-ATTR:host"] is None, admin_view
    image_api = world.cloud.image_api(world.cloud.session(*DEMO))
    shelved = [i for i in image_api.get("/v2/images").json()["images"]
               if i.get("instance_uuid") == server_id and i["name"].endswith("-shelved")]
    assert [i["status"] for i in shelved] == ["active"], shelved
    assert_error(world.admin.get("/servers/%s/diagnostics" % server_id), 409)
    world.cloud.openstack("server", "unshelve", server_id, env=world.demo_env())
    server = wait_server(world, server_id, "ACTIVE")
    assert server["OS-EXT-STS:power_state"] == 1, server
    admin_view = world.admin.get("/servers/%s" % server_id).json()["server"]
    assert admin_view["OS-EXT-SRV-ATTR:host"] == NODE, admin_view
    deadline = time.monotonic() + 15
    while image_api.get("/v2/images/%s" % shelved[0]["id"]).status_code != 404:
        assert time.monotonic() < deadline, "the shelved image outlived the unshelve"
        time.sleep(0.2)
    resp = world.demo.get("/servers/%s/os-server-password" % server_id)
    assert resp.status_code == 200 and resp.json() == {"password": ""}, resp.text
    resp = world.admin.get("/servers/%s/diagnostics" % server_id)
    assert resp.status_code == 200 and resp.json()["state"] == "running", resp.text


def check_console_log(world: World, booted: dict[str, Any]) -> None:
    out = world.cloud.openstack("console", "log", "show", booted["id"],
                                env=world.demo_env()).stdout
    assert out.strip(), "empty console log"
    resp = action(world.demo, booted["id"], {"os-getConsoleOutput": {"length": 2}})
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["output"].splitlines()) <= 2


def check_instance_actions(world: World, booted: dict[str, Any]) -> None:
    resp = world.demo.get("/servers/%s/os-instance-actions" % booted["id"])
    assert resp.status_code == 200, resp.text
    actions = resp.json()["instanceActions"]
    names = {a["action"] for a in actions}
    assert {"create", "stop", "start", "reboot", "pause", "unpause", "suspend", "resume",
            "resize", "confirmResize", "revertResize"} <= names, names
    create = [a for a in actions if a["action"] == "create"][0]
    assert create["project_id"] == world.demo_project and create["request_id"]
    detail = world.admin.get("/servers/%s/os-instance-actions/%s" % (
        booted["id"], create["request_id"])).json()["instanceAction"]
    assert detail["events"], detail
    assert all(e["result"] == "Success" for e in detail["events"]), detail


def check_hypervisors_and_services(world: World, booted: dict[str, Any]) -> None:
    resp = world.admin.get("/os-hypervisors/detail")
    assert resp.status_code == 200, resp.text
    (hyp,) = [h for h in resp.json()["hypervisors"] if h["hypervisor_hostname"] == NODE]
    assert hyp["state"] == "up" and hyp["status"] == "enabled", hyp
    assert hyp["running_vms"] >= 1 and hyp["vcpus_used"] >= 1, hyp
    assert hyp["hypervisor_type"] == "fake", hyp
    resp = world.admin.get("/os-services")
    assert resp.status_code == 200, resp.text
    services = {(s["binary"], s["host"]): s for s in resp.json()["services"]}
    assert services[("nova-compute", NODE)]["state"] == "up", services
    ups = {b for (b, _h), s in services.items() if s["state"] == "up"}
    assert {"nova-compute", "nova-conductor", "nova-scheduler"} <= ups, services
    # Not for members.
    assert_error(world.demo.get("/os-hypervisors"), 403)


def check_another_projects_view(world: World, booted: dict[str, Any]) -> None:
    alt = world.cloud.api(world.cloud.session(*ALT))
    server_id = booted["id"]
    assert_error(alt.get("/servers/%s" % server_id), 404)
    assert_error(action(alt, server_id, {"os-stop": None}), 404)
    assert_error(alt.delete("/servers/%s" % server_id), 404)
    assert_error(alt.get("/servers/%s/os-instance-actions" % server_id), 404)
    assert server_id not in json.dumps(alt.get("/servers").json())
    wait_server(world, server_id, "ACTIVE")


def check_delete(world: World, booted: dict[str, Any]) -> None:
    server_id = booted["id"]
    world.cloud.openstack("server", "delete", server_id, env=world.demo_env())
    wait_server(world, server_id, "DELETED")
    assert_error(world.demo.get("/servers/%s" % server_id), 404)
    net_api = world.cloud.net_api(world.cloud.session())
    deadline = time.monotonic() + 15
    while net_api.get("/v2.0/ports?device_id=%s" % server_id).json()["ports"]:
        assert time.monotonic() < deadline, "the server's port outlived it"
        time.sleep(0.2)


def check_bad_input_quota_and_other_projects(world: World, booted: dict[str, Any]) -> None:
    """Nova's 4xx on servers of this check's own (project "quota")."""
    cloud = world.cloud
    demo = world.demo
    # Bad input on create.
    assert_error(demo.post("/servers", json=server_body(world, flavorRef="no-such")), 400)
    assert_error(demo.post("/servers", json=server_body(world, imageRef=str(uuid.uuid4()))),
                 400)
    assert_error(demo.post("/servers", json=server_body(
        world, networks=[{"uuid": str(uuid.uuid4())}])), 400)
    assert_error(demo.post("/servers", json=server_body(world, flavorRef=None)), 400)
    assert_error(demo.post("/servers", data=b'{"server": {"name": ',
                           headers={"Content-Type": "application/json"}), 400)
    assert_error(demo.post("/servers", json={"server": "not an object"}), 400)
    # Microversions.
    for header in ({"X-OpenStack-Nova-API-Version": "2.9999"},
                   {"OpenStack-API-Version": "compute 3.0"}):
        resp = demo.get("/servers", headers=header)
        assert resp.status_code == 406, (header, resp.status_code, resp.text)
    assert demo.get("/servers", headers={
        "X-OpenStack-Nova-API-Version": "not-a-version"}).status_code in (400, 406)
    assert_error(demo.get("/servers/%s" % uuid.uuid4()), 404)

    # Quota: one instance for project "quota".
    cloud.openstack("quota", "set", "--instances", "1", QUOTA[2])
    sess = cloud.session(*QUOTA)
    api = cloud.api(sess)
    net_id = _make_network(cloud, sess, "quota-net", "10.30.0.0/24")
    resp = api.post("/servers", json=server_body(world, networks=[{"uuid": net_id}]))
    assert resp.status_code == 202, resp.text
    first = resp.json()["server"]["id"]
    try:
        resp = api.post("/servers", json=server_body(world, networks=[{"uuid": net_id}]))
        assert_error(resp, 403)
        assert "instances" in resp.text.lower() or "quota" in resp.text.lower(), resp.text
        assert_error(api.post("/servers", json=server_body(
            world, networks=[{"uuid": net_id}], min_count=2)), 403)
        wait_server(world, first, "ACTIVE", api=api)
        # Bad action bodies.
        assert_error(action(api, first, {"no-such-action": None}), 400)
        assert_error(action(api, first, {"reboot": {"type": "SIDEWAYS"}}), 400)
        assert_error(action(api, first, {"resize": {"flavorRef": "no-such"}}), 400)
        # Another project's server (demo looks at quota's): 404, as if absent.
        assert_error(demo.get("/servers/%s" % first), 404)
        assert_error(action(demo, first, {"os-stop": None}), 404)
        assert_error(demo.delete("/servers/%s" % first), 404)
        assert first not in json.dumps(demo.get("/servers/detail").json())
        wait_server(world, first, "ACTIVE", api=api)
    finally:
        api.delete("/servers/%s" % first)
    wait_server(world, first, "DELETED", api=api)


LIFECYCLE = [
    ("create reaches ACTIVE with the network's address", check_create_and_addresses),
    ("stop/start/reboot/pause/unpause/suspend/resume", check_power_actions),
    ("an action in the wrong state is 409", check_wrong_state_is_409),
    ("resize + confirm", check_resize_and_confirm),
    ("resize + revert", check_resize_and_revert),
    ("server image create", check_image_create),
    ("shelve (offloaded at once) + unshelve", check_shelve_and_unshelve),
    ("console log show", check_console_log),
    ("os-instance-actions", check_instance_actions),
    ("os-hypervisors and os-services", check_hypervisors_and_services),
    ("another project's view", check_another_projects_view),
    ("bad input, quota, other projects' servers", check_bad_input_quota_and_other_projects),
    ("server delete removes the server and its port", check_delete),
]


def test_server_lifecycle_with_the_clients(world: World) -> None:
    booted = boot_with_cli(world)
    failed = []
    for name, check in LIFECYCLE:
        try:
            check(world, booted)
        except (Exception, pytest.fail.Exception) as err:
            failed.append("--- step %r failed:\n%s" % (name, err))
    if failed:
        pytest.fail("%d of %d steps failed\n%s" % (len(failed), len(LIFECYCLE),
                                                    "\n".join(failed)), pytrace=False)
    assert_no_500(world)


def assert_no_500(world: World) -> None:
    """No request of the module was answered with an unexpected error."""
    with open(world.cloud.daemons["compute-api"].log, errors="replace") as handle:
        bad = [line for line in handle if "ERROR common.wsgi.fault" in line]
    assert not bad, "the compute API answered 500:\n" + "".join(bad[:20])
