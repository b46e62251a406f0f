"""GET /servers(/detail) with filters and paging, show per microversion, update
and delete (in every state, locked, on a host that is up or down)."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from compute_api_helpers import Api, message, project

from compute import states
from tests.fixtures import compute as fx

BASE_KEYS = {"id", "name", "status", "tenant_id", "user_id", "metadata", "hostId", "image",
             "flavor", "created", "updated", "addresses", "accessIPv4", "accessIPv6",
             "links", "OS-DCF:diskConfig"}
DETAIL_KEYS = BASE_KEYS | {"key_name", "config_drive", "OS-EXT-AZ:availability_zone",
                           "OS-SRV-USG:launched_at", "OS-SRV-USG:terminated_at",
                           "OS-EXT-STS:task_state", "OS-EXT-STS:vm_state",
                           "OS-EXT-STS:power_state", "os-extended-volumes:volumes_attached",
                           "security_groups"}
ADMIN_KEYS = {"OS-EXT-SRV-ATTR:host", "OS-EXT-SRV-ATTR:hypervisor_hostname",
              "OS-EXT-SRV-ATTR:instance_name"}
ADMIN_23_KEYS = {"OS-EXT-SRV-ATTR:reservation_id", "OS-EXT-SRV-ATTR:launch_index",
                 "OS-EXT-SRV-ATTR:kernel_id", "OS-EXT-SRV-ATTR:ramdisk_id",
                 "OS-EXT-SRV-ATTR:hostname", "OS-EXT-SRV-ATTR:root_device_name",
                 "OS-EXT-SRV-ATTR:user_data"}
VIF = {"id": "port-1", "address": "fa:16:3e:00:00:01",
       "network": {"id": "net-1", "label": "private", "subnets": [
           {"cidr": "10.0.0.0/24", "version": 4,
            "ips": [{"address": "10.0.0.5", "type": "fixed", "version": 4,
                     "floating_ips": [{"address": "172.24.4.9", "type": "floating",
                                       "version": 4}]}]},
           {"cidr": "fd00::/64", "version": 6,
            "ips": [{"address": "fd00::5", "type": "fixed", "version": 6}]}]}}


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch, service: Any, api: Api) -> fx.Servers:
    return fx.Servers(api, service, fx.install_fakes(monkeypatch))


def _ids(resp: Any) -> list[str]:
    return [s["id"] for s in resp.json["servers"]]


def test_show_at_21_and_what_is_hidden(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p, metadata={"k": "v"}, accessIPv4="1.2.3.4")
    fakes.set(instance["uuid"], network_info=[VIF])
    server = fakes.call("GET", "/servers/" + instance["uuid"], p, status=200).json["server"]
    assert set(server) == DETAIL_KEYS | {"progress"}
    assert server["status"] == "ACTIVE" and server["progress"] == 0
    assert server["tenant_id"] == p and server["metadata"] == {"k": "v"}
    assert server["image"] == {"id": fakes.image["id"], "links": [
        {"rel": "bookmark", "href": "http://localhost/images/" + fakes.image["id"]}]}
    assert server["flavor"] == {"id": fakes.flavor["id"], "links": [
        {"rel": "bookmark", "href": "http://localhost/flavors/" + fakes.flavor["id"]}]}
    assert len(server["hostId"]) == 56 and server["accessIPv4"] == "1.2.3.4"
    assert server["accessIPv6"] == "" and server["OS-DCF:diskConfig"] == "MANUAL"
    assert server["created"].endswith("Z") and len(server["created"]) == 20
    assert server["OS-EXT-STS:vm_state"] == "active" and server["OS-EXT-STS:power_state"] == 1
    assert server["OS-EXT-AZ:availability_zone"] == "nova"
    assert server["config_drive"] == "" and server["security_groups"] == [{"name": "default"}]
    assert server["addresses"] == {"private": [
        {"version": 4, "addr": "10.0.0.5", "OS-EXT-IPS:type": "fixed",
         "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:01"},
        {"version": 6, "addr": "fd00::5", "OS-EXT-IPS:type": "fixed",
         "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:01"},
        {"version": 4, "addr": "172.24.4.9", "OS-EXT-IPS:type": "floating",
         "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:01"}]}
    # Another project's server does not exist; an admin sees it with the host.
    fakes.call("GET", "/servers/" + instance["uuid"], project(), status=404)
    fakes.call("GET", "/servers/" + str(uuid.uuid4()), p, status=404)
    admin = fakes.call("GET", "/servers/" + instance["uuid"], None, admin=True,
                       status=200).json["server"]
    assert set(admin) == DETAIL_KEYS | ADMIN_KEYS | {"progress"}
    assert admin["OS-EXT-SRV-ATTR:host"] == "node-1"
    assert admin["OS-EXT-SRV-ATTR:instance_name"].startswith("instance-")


@pytest.mark.parametrize("version,extra,admin_extra", [
    ("2.2", set(), set()),
    ("2.3", set(), ADMIN_23_KEYS),
    ("2.9", {"locked"}, ADMIN_23_KEYS),
    ("2.16", {"locked"}, ADMIN_23_KEYS | {"host_status"}),
    ("2.19", {"locked", "description"}, ADMIN_23_KEYS | {"host_status"}),
    ("2.26", {"locked", "description", "tags"}, ADMIN_23_KEYS | {"host_status"}),
])
def test_detail_keys_per_microversion(fakes: fx.Servers, version: str, extra: set[str],
                                      admin_extra: set[str]) -> None:
    p = project()
    instance = fakes.active(p)
    path = "/servers/" + instance["uuid"]
    server = fakes.call("GET", path, p, version=version, status=200).json["server"]
    assert set(server) == DETAIL_KEYS | {"progress"} | extra
    admin = fakes.call("GET", path, None, version=version, admin=True,
                       status=200).json["server"]
    assert set(admin) == DETAIL_KEYS | {"progress"} | ADMIN_KEYS | extra | admin_extra
    if "host_status" in admin_extra:
        assert admin["host_status"] == "UP"
    if version >= "2.3":
        assert admin["OS-EXT-SRV-ATTR:launch_index"] == 0
    listed = fakes.call("GET", "/servers/detail", p, version=version, status=200)
    assert set(listed.json["servers"][0]) == set(server)


def test_fault_of_an_errored_server(fakes: fx.Servers) -> None:
    p = project()
    server_id = fakes.boot(p)
    fakes.set(server_id, vm_state=states.ERROR, task_state=None)
    fakes.store.add_fault(server_id, 500, "No valid host was found.", "Traceback ...")
    server = fakes.call("GET", "/servers/" + server_id, p, status=200).json["server"]
    assert server["status"] == "ERROR" and "progress" not in server
    assert set(server["fault"]) == {"code", "created", "message"}
    assert server["fault"]["message"] == "No valid host was found."
    admin = fakes.call("GET", "/servers/" + server_id, None, admin=True).json["server"]
    assert admin["fault"]["details"] == "Traceback ..."
    assert server["hostId"] == "" and server["OS-EXT-AZ:availability_zone"] == ""


def test_list_is_per_project_and_pages(fakes: fx.Servers) -> None:
    p = project()
    ids = [fakes.boot(p, name="page-%d" % i) for i in range(5)]
    fakes.boot(project())
    listed = fakes.call("GET", "/servers", p, status=200).json
    assert set(listed) == {"servers"}
    assert [s["id"] for s in listed["servers"]] == ids[::-1]
    assert set(listed["servers"][0]) == {"id", "name", "links"}
    first = fakes.call("GET", "/servers?limit=2", p, status=200).json
    assert [s["id"] for s in first["servers"]] == ids[:2:-1]
    assert len(first["servers"]) == 2
    (link,) = first["servers_links"]
    assert link["rel"] == "next" and "marker=" + first["servers"][1]["id"] in link["href"]
    second = fakes.call("GET", "/servers?limit=2&marker=" + first["servers"][1]["id"], p,
                        status=200).json
    assert [s["id"] for s in second["servers"]] == ids[2:0:-1]
    assert fakes.call("GET", "/servers?limit=0", p, status=200).json == {"servers": []}
    fakes.call("GET", "/servers?limit=-1", p, status=400)
    fakes.call("GET", "/servers?limit=abc", p, status=400)
    resp = fakes.call("GET", "/servers?marker=" + str(uuid.uuid4()), p, status=400)
    assert "marker" in message(resp)
    asc = fakes.call("GET", "/servers?sort_key=display_name&sort_dir=asc", p, status=200)
    assert [s["name"] for s in asc.json["servers"]] == ["page-%d" % i for i in range(5)]
    fakes.call("GET", "/servers?sort_key=bogus", p, status=400)
    fakes.call("GET", "/servers?sort_dir=up", p, status=400)


def test_filters(fakes: fx.Servers) -> None:
    p = project()
    other_flavor = fakes.make_flavor()
    web = fakes.active(p, name="web-1")
    fakes.set(web["uuid"], network_info=[VIF])
    db = fakes.boot(p, name="db-1", flavorRef=other_flavor["id"])
    stopped = fakes.active(p, name="stopped-1")
    fakes.set(stopped["uuid"], vm_state=states.STOPPED)

    def ids(query: str, version: str | None = None) -> set[str]:
        return set(_ids(fakes.call("GET", "/servers?" + query, p, version=version,
                                   status=200)))

    assert ids("name=web") == {web["uuid"]}
    assert ids("name=^.*-1$") == {web["uuid"], db, stopped["uuid"]}
    assert ids("status=ACTIVE") == {web["uuid"]}
    assert ids("status=SHUTOFF") == {stopped["uuid"]}
    assert ids("status=BUILD&status=SHUTOFF") == {db, stopped["uuid"]}
    assert ids("status=BALONEY") == set()
    assert ids("flavor=" + other_flavor["id"]) == {db}
    assert ids("flavor=1234") == set()
    assert ids("image=" + fakes.image["id"]) == {web["uuid"], db, stopped["uuid"]}
    assert ids("image=1234abcd-zzz0-aaa9-ppp3-0987654abcde") == set()
    assert ids("ip=10.0.0") == {web["uuid"]}
    assert ids("ip6=fd00::5", version="2.5") == {web["uuid"]}
    assert ids("changes-since=2051-01-01T12:34:00Z") == set()
    assert len(ids("changes-since=2011-01-01T00:00:00Z")) == 3
    # Filters for admins only are ignored for others.
    assert len(ids("host=nowhere")) == 3
    for bad in ("changes-since=2011/01/01", "name=(", "all_tenants=maybe"):
        fakes.call("GET", "/servers?" + bad, p, status=400)
    fakes.call("GET", "/servers?all_tenants=1", p, status=403)
    admin = set(_ids(fakes.call("GET", "/servers/detail?all_tenants=1&host=node-1", None,
                                admin=True, status=200)))
    assert {web["uuid"], stopped["uuid"]} <= admin and db not in admin
    tenant = set(_ids(fakes.call("GET", "/servers?all_tenants=1&tenant_id=" + p, None,
                                 admin=True, status=200)))
    assert tenant == {web["uuid"], db, stopped["uuid"]}


def test_deleted_servers_are_not_listed(fakes: fx.Servers) -> None:
    p = project()
    gone = fakes.boot(p)
    kept = fakes.boot(p)
    fakes.call("DELETE", "/servers/" + gone, p, status=204)
    assert _ids(fakes.call("GET", "/servers", p, status=200)) == [kept]
    assert _ids(fakes.call("GET", "/servers/detail", p, status=200)) == [kept]
    fakes.call("GET", "/servers/" + gone, p, status=404)
    # changes-since shows deletions; admins can ask for deleted servers.
    since = fakes.call("GET", "/servers/detail?changes-since=2011-01-01T00:00:00Z", p,
                       status=200).json["servers"]
    assert {s["id"]: s["status"] for s in since} == {gone: "DELETED", kept: "BUILD"}
    deleted = _ids(fakes.call("GET", "/servers?deleted=true&all_tenants=1&tenant_id=" + p,
                              None, admin=True, status=200))
    assert deleted == [gone]


def test_tag_filters_at_226(fakes: fx.Servers) -> None:
    p = project()
    a = fakes.active(p)
    b = fakes.active(p)
    fakes.store.set_tags(a["uuid"], ["red", "blue"])
    fakes.store.set_tags(b["uuid"], ["red"])

    def ids(query: str) -> set[str]:
        return set(_ids(fakes.call("GET", "/servers?" + query, p, version="2.26",
                                   status=200)))

    assert ids("tags=red,blue") == {a["uuid"]}
    assert ids("tags-any=blue,green") == {a["uuid"]}
    assert ids("not-tags=blue") == {b["uuid"]}
    assert ids("not-tags-any=red") == set()
    # Before 2.26 the tag filters do not exist.
    assert len(_ids(fakes.call("GET", "/servers?tags=blue", p, status=200))) == 2


def test_update(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    path = "/servers/" + instance["uuid"]
    server = fakes.call("PUT", path, p, status=200, json_body={"server": {
        "name": "renamed", "accessIPv4": "4.3.2.1", "accessIPv6": "2001:db8:0::1"}}
    ).json["server"]
    assert set(server) == BASE_KEYS | {"progress"}
    assert server["name"] == "renamed" and server["accessIPv6"] == "2001:db8::1"
    at219 = fakes.call("PUT", path, p, version="2.19", status=200,
                       json_body={"server": {"description": "hello"}}).json["server"]
    assert at219["description"] == "hello" and at219["locked"] is False
    fakes.call("PUT", path, p, status=400, json_body={"server": {"description": "x"}})
    fakes.call("PUT", path, p, status=400, json_body={"server": {"name": ""}})
    fakes.call("PUT", path, p, status=400, json_body={"server": {"accessIPv4": "x"}})
    fakes.call("PUT", path, p, status=400, json_body={"server": {"bogus": 1}})
    fakes.call("PUT", path, project(), status=404, json_body={"server": {"name": "mine"}})
    fakes.call("PUT", "/servers/" + str(uuid.uuid4()), p, status=404,
               json_body={"server": {"name": "x"}})
    fakes.call("PUT", path, p, roles="reader", status=403,
               json_body={"server": {"name": "x"}})


def test_delete_before_scheduling_is_immediate(fakes: fx.Servers) -> None:
    p = project()
    server_id = fakes.boot(p)
    fakes.boundary.rpc.clear()
    fakes.call("DELETE", "/servers/" + server_id, p, status=204)
    assert fakes.store.get(server_id, read_deleted=True)["vm_state"] == states.DELETED
    assert fakes.boundary.rpc == []
    fakes.call("DELETE", "/servers/" + server_id, p, status=404)


@pytest.mark.parametrize("vm_state", [states.ACTIVE, states.PAUSED, states.SUSPENDED,
                                      states.BUILDING, states.ERROR])
def test_delete_on_a_host_casts_terminate(fakes: fx.Servers, vm_state: str) -> None:
    p = project()
    instance = fakes.active(p)
    fakes.set(instance["uuid"], vm_state=vm_state)
    fakes.call("DELETE", "/servers/" + instance["uuid"], p, status=204)
    assert fakes.store.get(instance["uuid"])["task_state"] == states.DELETING
    assert fakes.boundary.casts("terminate_instance") == [
        {"host": "node-1", "instance_uuid": instance["uuid"]}]
    actions = [a["action"] for a in fakes.store.list_actions(instance["uuid"])]
    assert actions[0] == "delete"


def test_delete_on_a_down_host_is_local(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p, host="gone-host")
    fakes.set(instance["uuid"], host="never-reported")
    fakes.call("DELETE", "/servers/" + instance["uuid"], p, status=204)
    assert fakes.boundary.rpc == []
    # Its node never will: the API releases the ports (Nova's local delete).
    assert fakes.boundary.deallocated == [instance["uuid"]]
    fakes.call("GET", "/servers/" + instance["uuid"], p, status=404)


def test_delete_locked_and_force_delete(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    fakes.set(instance["uuid"], locked=True, locked_by="owner")
    resp = fakes.call("DELETE", "/servers/" + instance["uuid"], p, status=409)
    assert message(resp) == "Instance %s is locked" % instance["uuid"]
    fakes.call("POST", "/servers/%s/action" % instance["uuid"], p, status=409,
               json_body={"forceDelete": None})
    fakes.call("DELETE", "/servers/" + instance["uuid"], project(), status=404)
    fakes.call("DELETE", "/servers/" + instance["uuid"], p, roles="reader", status=403)
    fakes.call("POST", "/servers/%s/action" % instance["uuid"], None, admin=True, status=202,
               json_body={"forceDelete": None})
    assert fakes.boundary.casts("terminate_instance")
