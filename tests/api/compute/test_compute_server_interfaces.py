"""A server's port interfaces: ``/servers/{id}/os-interface`` (list, show, attach
with a call to the node, detach with a cast), their states, lock and policy."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from compute_api_helpers import Api, message, project

from tests.fixtures import compute as fx


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch, service: Any, api: Api) -> fx.Servers:
    return fx.Servers(api, service, fx.install_fakes(monkeypatch))


def _base(instance: dict[str, Any]) -> str:
    return "/servers/%s/os-interface" % instance["uuid"]


def test_list_and_show(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    port = fakes.boundary.add_port(instance["uuid"])
    fakes.boundary.add_port(str(uuid.uuid4()))  # another server's
    resp = fakes.call("GET", _base(instance), p, roles="reader", status=200)
    expected = {"port_state": "ACTIVE", "port_id": port["id"], "net_id": port["network_id"],
                "mac_addr": port["mac_address"], "fixed_ips": port["fixed_ips"]}
    assert resp.json == {"interfaceAttachments": [expected]}
    resp = fakes.call("GET", _base(instance) + "/" + port["id"], p, status=200)
    assert resp.json == {"interfaceAttachment": expected}
    # 2.70's tag is beyond the versions served.
    assert "tag" not in fakes.call("GET", _base(instance), p, version="latest",
                                   status=200).json["interfaceAttachments"][0]
    other = fakes.boundary.add_port(str(uuid.uuid4()))
    fakes.call("GET", _base(instance) + "/" + other["id"], p, status=404)
    fakes.call("GET", _base(instance) + "/" + str(uuid.uuid4()), p, status=404)
    fakes.call("GET", _base(instance), project(), status=404)
    fakes.call("GET", "/servers/%s/os-interface" % uuid.uuid4(), p, status=404)


def test_attach_a_network(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    net_id = str(uuid.uuid4())
    body = {"interfaceAttachment": {"net_id": net_id,
                                    "fixed_ips": [{"ip_address": "10.0.0.99"}]}}
    resp = fakes.call("POST", _base(instance), p, json_body=body, status=200)
    att = resp.json["interfaceAttachment"]
    assert att["net_id"] == net_id and att["port_state"] == "ACTIVE"
    assert [ip["ip_address"] for ip in att["fixed_ips"]] == ["10.0.0.99"]
    assert set(att) == {"port_state", "fixed_ips", "port_id", "net_id", "mac_addr"}
    assert fakes.boundary.casts("attach_interface") == [
        {"host": "node-1", "instance_uuid": instance["uuid"], "network_id": net_id,
         "port_id": None, "fixed_ip": "10.0.0.99"}]
    actions = fakes.call("GET", "/servers/%s/os-instance-actions" % instance["uuid"], p,
                         status=200).json["instanceActions"]
    assert actions[0]["action"] == "attach_interface"


def test_attach_a_port_and_nothing(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    port = fakes.boundary.add_port()
    resp = fakes.call("POST", _base(instance), p,
                      json_body={"interfaceAttachment": {"port_id": port["id"]}}, status=200)
    assert resp.json["interfaceAttachment"]["port_id"] == port["id"]
    assert resp.json["interfaceAttachment"]["mac_addr"] == port["mac_address"]
    # No port and no network: the node picks (Nova's auto allocation).
    fakes.call("POST", _base(instance), p, json_body={}, status=200)
    fakes.call("POST", _base(instance), p, json_body={"interfaceAttachment": {}}, status=200)
    assert [c["port_id"] for c in fakes.boundary.casts("attach_interface")] == [
        port["id"], None, None]
    missing = str(uuid.uuid4())
    resp = fakes.call("POST", _base(instance), p,
                      json_body={"interfaceAttachment": {"port_id": missing}}, status=404)
    assert missing in message(resp)


@pytest.mark.parametrize(("body", "text"), [
    ({"interfaceAttachment": {"net_id": "n1", "port_id": "p1"}}, None),
    ({"interfaceAttachment": {"net_id": str(uuid.uuid4()), "port_id": str(uuid.uuid4())}},
     "Must not input both network_id and port_id"),
    ({"interfaceAttachment": {"fixed_ips": [{"ip_address": "10.0.0.5"}]}},
     "Must input network_id when request IP address"),
    ({"interfaceAttachment": {"net_id": str(uuid.uuid4()),
                              "fixed_ips": [{"ip_address": "not-an-ip"}]}}, None),
    ({"interfaceAttachment": {"net_id": str(uuid.uuid4()), "fixed_ips": []}}, None),
    ({"interfaceAttachment": {"net_id": str(uuid.uuid4()), "tag": "nic1"}}, None),
    ({"interfaceAttachment": "x"}, None),
    ({"other": {}}, None),
])
def test_attach_bad_bodies(fakes: fx.Servers, body: Any, text: str | None) -> None:
    p = project()
    instance = fakes.active(p)
    resp = fakes.call("POST", _base(instance), p, json_body=body, status=400)
    if text is not None:
        assert message(resp) == text
    assert fakes.boundary.casts("attach_interface") == []


def test_states_lock_and_policy(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    port = fakes.boundary.add_port(instance["uuid"])
    fakes.set(instance["uuid"], network_info=[{"id": port["id"]}])
    body = {"interfaceAttachment": {"port_id": port["id"]}}
    one = _base(instance) + "/" + port["id"]
    for vm_state in ("paused", "stopped"):
        fakes.set(instance["uuid"], vm_state=vm_state)
        fakes.call("POST", _base(instance), p, json_body=body, status=200)
    fakes.set(instance["uuid"], vm_state="suspended")
    resp = fakes.call("POST", _base(instance), p, json_body=body, status=409)
    assert message(resp) == ("Cannot 'attach_interface' instance %s while it is in "
                             "vm_state suspended" % instance["uuid"])
    fakes.call("DELETE", one, p, status=409)
    fakes.set(instance["uuid"], vm_state="active", task_state="rebooting")
    fakes.call("POST", _base(instance), p, json_body=body, status=409)
    fakes.set(instance["uuid"], task_state=None, locked=True, locked_by="owner")
    fakes.call("POST", _base(instance), p, json_body=body, status=409)
    fakes.call("DELETE", one, p, status=409)
    fakes.call("GET", _base(instance), p, status=200)
    fakes.call("POST", _base(instance), None, admin=True, json_body=body, status=200)
    fakes.set(instance["uuid"], locked=False, locked_by=None)
    fakes.call("POST", _base(instance), p, roles="reader", json_body=body, status=403)
    fakes.call("DELETE", one, p, roles="reader", status=403)
    fakes.call("POST", _base(instance), project(), json_body=body, status=404)
    building = fakes.boot(p)
    fakes.call("POST", "/servers/%s/os-interface" % building, p, json_body=body, status=409)


def test_detach(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    port = fakes.boundary.add_port(instance["uuid"])
    fakes.set(instance["uuid"], network_info=[{"id": port["id"]}])
    fakes.call("DELETE", _base(instance) + "/" + port["id"], p, status=202)
    assert fakes.boundary.casts("detach_interface") == [
        {"host": "node-1", "instance_uuid": instance["uuid"], "port_id": port["id"]}]
    resp = fakes.call("DELETE", _base(instance) + "/no-such-port", p, status=404)
    assert "no-such-port" in message(resp)
    assert len(fakes.boundary.casts("detach_interface")) == 1


def test_bus_down_is_a_503(fakes: fx.Servers) -> None:
    import oslo_messaging

    p = project()
    instance = fakes.active(p)
    fakes.set(instance["uuid"], network_info=[{"id": "port-1"}])
    fakes.boundary.rpc_error = oslo_messaging.MessagingTimeout("no answer")
    path = "/v2.1" + _base(instance)
    headers = {"X-Test-Project": p, "Content-Type": "application/json"}
    resp = fakes.api.app.request(path, method="POST", expect_errors=True, headers=headers,
                                 body=b'{"interfaceAttachment": {}}')
    assert resp.status_int == 503
    resp = fakes.api.app.request(path + "/port-1", method="DELETE", expect_errors=True,
                                 headers=headers)
    assert resp.status_int == 503
