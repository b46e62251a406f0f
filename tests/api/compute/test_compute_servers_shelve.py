"""shelve / shelveOffload / unshelve actions, os-server-password and server
diagnostics: policies, states, the shelved image, task states, instance
actions and the casts."""
from __future__ import annotations

from typing import Any

import oslo_messaging as messaging
import pytest
from compute_api_helpers import Api, message, project

from compute import states
from compute.metadata import content
from tests.fixtures import compute as fx


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch, service: Any, api: Api) -> fx.Servers:
    return fx.Servers(api, service, fx.install_fakes(monkeypatch))


def _act(fakes: fx.Servers, instance: dict[str, Any], body: Any, project_id: str | None,
         status: int, **kwargs: Any) -> Any:
    return fakes.call("POST", "/servers/%s/action" % instance["uuid"], project_id,
                      json_body=body, status=status, **kwargs)


def _last_action(fakes: fx.Servers, uuid: str) -> str:
    return str(fakes.store.list_actions(uuid)[0]["action"])


@pytest.mark.parametrize("vm_state", [states.ACTIVE, states.STOPPED, states.PAUSED,
                                      states.SUSPENDED])
def test_shelve_makes_the_shelved_image_and_casts(fakes: fx.Servers, vm_state: str) -> None:
    p = project()
    instance = fakes.active(p)
    fakes.set(instance["uuid"], vm_state=vm_state,
              system_metadata={"image_os_distro": "cirros", "image_min_ram": "0"})
    resp = _act(fakes, instance, {"shelve": None}, p, 202)
    assert resp.body == b""
    row = fakes.store.get(instance["uuid"])
    assert (row["vm_state"], row["task_state"]) == (vm_state, states.SHELVING)
    [image] = fakes.boundary.created_images
    assert image["name"] == "%s-shelved" % row["display_name"]
    assert image["instance_uuid"] == instance["uuid"] and image["os_distro"] == "cirros"
    assert image["image_type"] == "snapshot"
    assert fakes.boundary.casts("shelve_instance") == [
        {"host": "node-1", "instance_uuid": instance["uuid"], "image_id": image["id"]}]
    assert _last_action(fakes, instance["uuid"]) == "shelve"
    resp = _act(fakes, instance, {"shelve": None}, p, 409)
    assert "task_state shelving" in message(resp)


def test_shelve_volume_backed_makes_no_image(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    fakes.set(instance["uuid"], image_ref="")
    _act(fakes, instance, {"shelve": None}, p, 202)
    assert fakes.boundary.created_images == []
    assert fakes.boundary.casts("shelve_instance")[0]["image_id"] is None


def test_shelve_wrong_state_locked_and_bus_down(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    fakes.set(instance["uuid"], vm_state=states.ERROR)
    resp = _act(fakes, instance, {"shelve": None}, p, 409)
    assert message(resp) == ("Cannot 'shelve' instance %s while it is in vm_state error"
                             % instance["uuid"])
    fakes.set(instance["uuid"], vm_state=states.ACTIVE, locked=True, locked_by="owner")
    _act(fakes, instance, {"shelve": None}, p, 409)
    fakes.set(instance["uuid"], locked=False, locked_by=None)
    fakes.boundary.rpc_error = messaging.MessageDeliveryFailure("bus down")
    resp = fakes.api.app.request(
        "/v2.1/servers/%s/action" % instance["uuid"], method="POST", expect_errors=True,
        headers={"X-Test-Project": p, "Content-Type": "application/json"},
        body=b'{"shelve": null}')
    assert resp.status_int == 503
    assert fakes.store.get(instance["uuid"])["task_state"] is None
    assert fakes.boundary.deleted_images == [fakes.boundary.created_images[0]["id"]]
    fakes.boundary.rpc_error = None


def test_shelve_offload_is_admin_and_from_shelved(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    _act(fakes, instance, {"shelveOffload": None}, p, 403)
    _act(fakes, instance, {"shelveOffload": None}, None, 409, admin=True)
    fakes.set(instance["uuid"], vm_state=states.SHELVED)
    _act(fakes, instance, {"shelveOffload": None}, None, 202, admin=True)
    row = fakes.store.get(instance["uuid"])
    assert row["task_state"] == states.SHELVING_OFFLOADING
    assert fakes.boundary.casts("shelve_offload_instance") == [
        {"host": "node-1", "instance_uuid": instance["uuid"]}]
    assert _last_action(fakes, instance["uuid"]) == "shelveOffload"


def test_unshelve_shelved_goes_to_its_node(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    _act(fakes, instance, {"unshelve": None}, p, 409)
    fakes.set(instance["uuid"], vm_state=states.SHELVED)
    resp = fakes.call("GET", "/servers/%s" % instance["uuid"], p, status=200)
    assert resp.json["server"]["status"] == "SHELVED"
    _act(fakes, instance, {"unshelve": None}, p, 202)
    assert fakes.store.get(instance["uuid"])["task_state"] == states.UNSHELVING
    assert fakes.boundary.casts("unshelve_instance") == [
        {"host": "node-1", "instance_uuid": instance["uuid"]}]
    assert [c for c, m, _ in fakes.boundary.rpc if m == "unshelve_instance"] == ["node"]
    assert _last_action(fakes, instance["uuid"]) == "unshelve"


def test_unshelve_offloaded_goes_to_the_conductor(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    fakes.set(instance["uuid"], vm_state=states.SHELVED_OFFLOADED, host=None, node=None)
    resp = fakes.call("GET", "/servers/%s" % instance["uuid"], p, status=200)
    assert resp.json["server"]["status"] == "SHELVED_OFFLOADED"
    _act(fakes, instance, {"unshelve": None}, p, 202)
    assert fakes.store.get(instance["uuid"])["task_state"] == states.UNSHELVING
    assert [(c, kw) for c, m, kw in fakes.boundary.rpc if m == "unshelve_instance"] == [
        ("conductor", {"instance_uuid": instance["uuid"]})]


def test_delete_of_an_offloaded_server_is_local(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    fakes.set(instance["uuid"], vm_state=states.SHELVED_OFFLOADED, host=None, node=None,
              network_info=[{"id": "port-1"}])
    fakes.call("DELETE", "/servers/%s" % instance["uuid"], p, status=204)
    assert fakes.store.get(instance["uuid"], read_deleted=True)["deleted"]
    assert fakes.boundary.deallocated == [instance["uuid"]]
    assert fakes.boundary.casts("terminate_instance") == []


# -- os-server-password ---------------------------------------------------------------


def test_server_password_show_and_clear(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    path = "/servers/%s/os-server-password" % instance["uuid"]
    assert fakes.call("GET", path, p, status=200).json == {"password": ""}
    secret = "x" * 300
    fakes.set(instance["uuid"], system_metadata=dict(
        content.password_to_system_metadata(secret), other="kept"))
    assert fakes.call("GET", path, p, status=200).json == {"password": secret}
    fakes.call("GET", path, project(), status=404)
    fakes.call("DELETE", path, p, status=403, roles="reader")
    assert fakes.call("GET", path, p, status=200, roles="reader").json["password"] == secret
    resp = fakes.call("DELETE", path, p, status=204)
    assert resp.body == b""
    assert fakes.call("GET", path, p, status=200).json == {"password": ""}
    assert fakes.store.get(instance["uuid"])["system_metadata"]["other"] == "kept"
    fakes.call("GET", "/servers/%s/os-server-password" % "nope", p, status=404)


# -- diagnostics ------------------------------------------------------------------------


def test_diagnostics_is_admin_and_asks_the_node(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    path = "/servers/%s/diagnostics" % instance["uuid"]
    fakes.call("GET", path, p, status=403)
    resp = fakes.call("GET", path, None, status=200, admin=True)
    assert resp.json == {"state": "running", "memory": 524288, "cpu0_time": 17300000000}
    assert fakes.boundary.casts("get_diagnostics") == [
        {"host": "node-1", "instance_uuid": instance["uuid"], "standard": False}]
    fakes.set(instance["uuid"], vm_state=states.SHELVED_OFFLOADED, host=None, node=None)
    fakes.call("GET", path, None, status=409, admin=True)
