"""POST /servers/{id}/action rescue and unrescue: bodies, policy, lock, state
rules (409), volume-backed servers and rescue images (400), the answer
(adminPass), the task state, the instance action and the cast."""
from __future__ import annotations

import uuid
from typing import Any

import oslo_messaging as messaging
import pytest
from compute_api_helpers import Api, message, project

from compute import states
from tests.fixtures import compute as fx


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch, service: Any, api: Api) -> fx.Servers:
    return fx.Servers(api, service, fx.install_fakes(monkeypatch))


def _act(fakes: fx.Servers, instance: dict[str, Any], body: Any, project_id: str | None,
         status: int, **kwargs: Any) -> Any:
    return fakes.call("POST", "/servers/%s/action" % instance["uuid"], project_id,
                      json_body=body, status=status, **kwargs)


def test_rescue_and_unrescue(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    resp = _act(fakes, instance, {"rescue": None}, p, 200)
    password = resp.json["adminPass"]
    assert len(password) >= 8
    got = fakes.store.get(instance["uuid"])
    assert (got["vm_state"], got["task_state"]) == (states.ACTIVE, states.RESCUING)
    assert fakes.boundary.casts("rescue_instance") == [{
        "host": "node-1", "instance_uuid": instance["uuid"], "rescue_password": password,
        "rescue_image_ref": None}]
    assert fakes.store.list_actions(instance["uuid"])[0]["action"] == "rescue"
    # Busy: a second rescue conflicts.
    resp = _act(fakes, instance, {"rescue": {}}, p, 409)
    assert "while it is in task_state rescuing" in message(resp)
    # What the node does when it is done.
    fakes.set(instance["uuid"], vm_state=states.RESCUED, task_state=None)
    shown = fakes.call("GET", "/servers/" + instance["uuid"], p).json["server"]
    assert shown["status"] == "RESCUE"
    listed = fakes.call("GET", "/servers?status=RESCUE", p).json["servers"]
    assert [s["id"] for s in listed] == [instance["uuid"]]
    _act(fakes, instance, {"unrescue": None}, p, 202)
    got = fakes.store.get(instance["uuid"])
    assert (got["vm_state"], got["task_state"]) == (states.RESCUED, states.UNRESCUING)
    assert fakes.boundary.casts("unrescue_instance") == [{
        "host": "node-1", "instance_uuid": instance["uuid"]}]
    assert fakes.store.list_actions(instance["uuid"])[0]["action"] == "unrescue"
    shown = fakes.call("GET", "/servers/" + instance["uuid"], p).json["server"]
    assert shown["status"] == "RESCUE"


def test_rescue_with_password_and_image(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    rescue_image = fakes.boundary.add_image(name="rescue")
    resp = _act(fakes, instance, {"rescue": {"adminPass": "s3cret-pass",
                                             "rescue_image_ref": rescue_image["id"]}}, p, 200)
    assert resp.json == {"adminPass": "s3cret-pass"}
    (cast,) = fakes.boundary.casts("rescue_instance")
    assert (cast["rescue_password"], cast["rescue_image_ref"]) == (
        "s3cret-pass", rescue_image["id"])


def test_no_password_shown_when_instance_passwords_are_off(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    fakes.app.conf.set_override("enable_instance_password", False, group="api")
    try:
        resp = _act(fakes, instance, {"rescue": {"adminPass": "s3cret-pass"}}, p, 200)
    finally:
        fakes.app.conf.clear_override("enable_instance_password", group="api")
    assert resp.json == {}
    assert fakes.boundary.casts("rescue_instance")[0]["rescue_password"] == "s3cret-pass"


@pytest.mark.parametrize("state", [states.ACTIVE, states.STOPPED, states.ERROR])
def test_rescue_allowed_states(fakes: fx.Servers, state: str) -> None:
    p = project()
    instance = fakes.active(p)
    fakes.set(instance["uuid"], vm_state=state)
    _act(fakes, instance, {"rescue": None}, p, 200)


@pytest.mark.parametrize("state", [states.PAUSED, states.SUSPENDED, states.RESCUED,
                                   states.SHELVED, states.RESIZED, states.BUILDING])
def test_rescue_in_the_wrong_state(fakes: fx.Servers, state: str) -> None:
    p = project()
    instance = fakes.active(p)
    fakes.set(instance["uuid"], vm_state=state)
    resp = _act(fakes, instance, {"rescue": None}, p, 409)
    assert message(resp) == "Cannot 'rescue' instance %s while it is in vm_state %s" % (
        instance["uuid"], state)
    assert fakes.boundary.rpc == []


@pytest.mark.parametrize("state", [states.ACTIVE, states.STOPPED, states.ERROR])
def test_unrescue_in_the_wrong_state(fakes: fx.Servers, state: str) -> None:
    p = project()
    instance = fakes.active(p)
    fakes.set(instance["uuid"], vm_state=state)
    resp = _act(fakes, instance, {"unrescue": None}, p, 409)
    assert message(resp) == "Cannot 'unrescue' instance %s while it is in vm_state %s" % (
        instance["uuid"], state)


def test_rescue_of_a_volume_backed_server_is_refused(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    fakes.set(instance["uuid"], image_ref="")
    resp = _act(fakes, instance, {"rescue": None}, p, 400)
    assert message(resp) == ("Instance %s cannot be rescued: Cannot rescue a volume-backed "
                             "instance" % instance["uuid"])
    assert fakes.store.get(instance["uuid"])["task_state"] is None


def test_rescue_image_must_exist_and_be_active(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    missing = str(uuid.uuid4())
    resp = _act(fakes, instance, {"rescue": {"rescue_image_ref": missing}}, p, 400)
    assert message(resp) == "Requested rescue image '%s' is not supported" % missing
    queued = fakes.boundary.add_image(status="queued")
    _act(fakes, instance, {"rescue": {"rescue_image_ref": queued["id"]}}, p, 400)
    assert fakes.store.get(instance["uuid"])["task_state"] is None


@pytest.mark.parametrize("body", [
    {"rescue": {"rescue_image_ref": "not-a-uuid"}}, {"rescue": {"bogus": 1}},
    {"rescue": {"adminPass": 12}}, {"rescue": "now"}, {"unrescue": {"bogus": 1}},
    {"unrescue": "now"}])
def test_bad_bodies(fakes: fx.Servers, body: Any) -> None:
    p = project()
    instance = fakes.active(p)
    if "unrescue" in body:
        fakes.set(instance["uuid"], vm_state=states.RESCUED)
    _act(fakes, instance, body, p, 400)
    assert fakes.boundary.rpc == []


def test_lock_and_policy(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    fakes.set(instance["uuid"], locked=True, locked_by="owner")
    resp = _act(fakes, instance, {"rescue": None}, p, 409)
    assert message(resp) == "Instance %s is locked" % instance["uuid"]
    fakes.set(instance["uuid"], vm_state=states.RESCUED)
    _act(fakes, instance, {"unrescue": None}, p, 409)
    fakes.set(instance["uuid"], locked=False, locked_by=None, vm_state=states.ACTIVE)
    _act(fakes, instance, {"rescue": None}, p, 403, roles="reader")
    _act(fakes, instance, {"rescue": None}, project(), 404)
    # An admin acts on any project's server, locked or not.
    fakes.set(instance["uuid"], locked=True, locked_by="owner")
    _act(fakes, instance, {"rescue": None}, None, 200, admin=True)
    fakes.set(instance["uuid"], vm_state=states.RESCUED, task_state=None)
    _act(fakes, instance, {"unrescue": None}, p, 403, roles="reader")
    _act(fakes, instance, {"unrescue": None}, None, 202, admin=True)


def test_a_refused_cast_puts_the_task_state_back(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    fakes.boundary.rpc_error = messaging.MessagingTimeout("no node")
    for state, body in ((states.ACTIVE, b'{"rescue": null}'),
                        (states.RESCUED, b'{"unrescue": null}')):
        fakes.set(instance["uuid"], vm_state=state)
        resp = fakes.api.app.request(
            "/v2.1/servers/%s/action" % instance["uuid"], method="POST", expect_errors=True,
            headers={"X-Test-Project": p, "Content-Type": "application/json"}, body=body)
        assert resp.status_int == 503
        assert fakes.store.get(instance["uuid"])["task_state"] is None


def test_rescue_of_a_server_on_no_host(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.store.get(fakes.boot(p))
    fakes.set(instance["uuid"], vm_state=states.ERROR, task_state=None)
    resp = _act(fakes, instance, {"rescue": None}, p, 409)
    assert message(resp) == "Instance %s is not ready" % instance["uuid"]
