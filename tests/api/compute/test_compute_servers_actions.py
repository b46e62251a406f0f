"""POST /servers/{id}/action: each action's policy, lock, state rules and 409s,
its task state, instance action and cast."""
from __future__ import annotations

import datetime
import uuid
from typing import Any

import oslo_messaging as messaging
import pytest
from compute_api_helpers import Api, message, project

from compute import states
from compute.db import models
from tests.fixtures import compute as fx

SERVICE_CONF = {"quota": {"cores": 4, "metadata_items": 2}}


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch, service: Any, api: Api) -> fx.Servers:
    return fx.Servers(api, service, fx.install_fakes(monkeypatch))


def _act(fakes: fx.Servers, instance: dict[str, Any], body: Any, project_id: str | None,
         status: int, **kwargs: Any) -> Any:
    return fakes.call("POST", "/servers/%s/action" % instance["uuid"], project_id,
                      json_body=body, status=status, **kwargs)


@pytest.mark.parametrize("action,from_state,task,method", [
    ("os-stop", states.ACTIVE, states.POWERING_OFF, "stop_instance"),
    ("os-stop", states.ERROR, states.POWERING_OFF, "stop_instance"),
    ("os-start", states.STOPPED, states.POWERING_ON, "start_instance"),
    ("pause", states.ACTIVE, states.PAUSING, "pause_instance"),
    ("unpause", states.PAUSED, states.UNPAUSING, "unpause_instance"),
    ("suspend", states.ACTIVE, states.SUSPENDING, "suspend_instance"),
    ("resume", states.SUSPENDED, states.RESUMING, "resume_instance"),
])
def test_power_actions(fakes: fx.Servers, action: str, from_state: str, task: str,
                       method: str) -> None:
    p = project()
    instance = fakes.active(p)
    fakes.set(instance["uuid"], vm_state=from_state)
    _act(fakes, instance, {action: None}, p, 202)
    assert fakes.store.get(instance["uuid"])["task_state"] == task
    assert fakes.boundary.casts(method) == [{"host": "node-1",
                                             "instance_uuid": instance["uuid"]}]
    name = action.replace("os-", "")
    assert fakes.store.list_actions(instance["uuid"])[0]["action"] == name
    # The task is running now: a second request conflicts.
    resp = _act(fakes, instance, {action: None}, p, 409)
    assert "while it is in task_state %s" % task in message(resp)


@pytest.mark.parametrize("action,state", [
    ("os-start", states.ACTIVE), ("os-stop", states.STOPPED), ("pause", states.PAUSED),
    ("unpause", states.ACTIVE), ("suspend", states.STOPPED), ("resume", states.ACTIVE),
])
def test_power_actions_in_the_wrong_state(fakes: fx.Servers, action: str, state: str) -> None:
    p = project()
    instance = fakes.active(p)
    fakes.set(instance["uuid"], vm_state=state)
    resp = _act(fakes, instance, {action: None}, p, 409)
    assert message(resp) == "Cannot '%s' instance %s while it is in vm_state %s" % (
        action.replace("os-", ""), instance["uuid"], state)
    assert fakes.boundary.rpc == []


def test_action_on_a_server_not_on_a_host(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.store.get(fakes.boot(p))
    fakes.set(instance["uuid"], vm_state=states.ERROR, task_state=None)
    resp = _act(fakes, instance, {"os-stop": None}, p, 409)
    assert message(resp) == "Instance %s is not ready" % instance["uuid"]
    _act(fakes, instance, {"os-getConsoleOutput": {}}, p, 409)


def test_lock_unlock(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    _act(fakes, instance, {"lock": None}, p, 202)
    assert fakes.store.get(instance["uuid"])["locked_by"] == "owner"
    resp = _act(fakes, instance, {"os-stop": None}, p, 409)
    assert message(resp) == "Instance %s is locked" % instance["uuid"]
    shown = fakes.call("GET", "/servers/" + instance["uuid"], p, version="2.9").json
    assert shown["server"]["locked"] is True
    _act(fakes, instance, {"unlock": None}, p, 202)
    _act(fakes, instance, {"os-stop": None}, p, 202)
    actions = [a["action"] for a in fakes.store.list_actions(instance["uuid"])]
    assert actions[:3] == ["stop", "unlock", "lock"]


def test_admin_lock_needs_an_admin_to_unlock(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    _act(fakes, instance, {"lock": None}, None, 202, admin=True)
    assert fakes.store.get(instance["uuid"])["locked_by"] == "admin"
    _act(fakes, instance, {"unlock": None}, p, 403)
    # An admin is never stopped by a lock.
    _act(fakes, instance, {"pause": None}, None, 202, admin=True)
    _act(fakes, instance, {"unlock": None}, None, 202, admin=True)


def test_reboot(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    _act(fakes, instance, {"reboot": {"type": "SOFT"}}, p, 202)
    assert fakes.store.get(instance["uuid"])["task_state"] == states.REBOOTING
    shown = fakes.call("GET", "/servers/" + instance["uuid"], p).json["server"]
    assert shown["status"] == "REBOOT"
    # A hard reboot may follow a soft one; another soft one may not.
    _act(fakes, instance, {"reboot": {"type": "SOFT"}}, p, 409)
    _act(fakes, instance, {"reboot": {"type": "hard"}}, p, 202)
    assert [c["reboot_type"] for c in fakes.boundary.casts("reboot_instance")] == [
        "SOFT", "HARD"]
    stopped = fakes.active(p)
    fakes.set(stopped["uuid"], vm_state=states.STOPPED)
    _act(fakes, stopped, {"reboot": {"type": "SOFT"}}, p, 409)
    _act(fakes, stopped, {"reboot": {"type": "HARD"}}, p, 202)
    for body in ({"reboot": {}}, {"reboot": {"type": "GENTLE"}}, {"reboot": None}):
        _act(fakes, stopped, body, p, 400)


def test_unknown_actions_and_bodies(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    resp = _act(fakes, instance, {"fly": None}, p, 400)
    assert message(resp) == "There is no such action: fly"
    _act(fakes, instance, {}, p, 400)
    _act(fakes, instance, [], p, 400)
    _act(fakes, instance, {"pause": None, "os-stop": None}, p, 400)
    _act(fakes, instance, {"pause": None}, project(), 404)
    fakes.call("POST", "/servers/%s/action" % uuid.uuid4(), p, json_body={"pause": None},
               status=404)
    _act(fakes, instance, {"pause": None}, p, 403, roles="reader")


def test_rebuild(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p, metadata={"old": "1"})
    other = fakes.boundary.add_image(os_distro="debian")
    resp = _act(fakes, instance, {"rebuild": {
        "imageRef": other["id"], "name": "rebuilt", "metadata": {"new": "2"},
        "adminPass": "pw"}}, p, 202)
    server = resp.json["server"]
    assert server["image"]["id"] == other["id"] and server["name"] == "rebuilt"
    assert server["metadata"] == {"new": "2"} and server["adminPass"] == "pw"
    assert server["status"] == "REBUILD"
    assert "OS-EXT-STS:vm_state" not in server and "locked" not in server
    row = fakes.store.get(instance["uuid"])
    assert row["task_state"] == states.REBUILDING
    assert row["system_metadata"]["image_os_distro"] == "debian"
    assert fakes.boundary.casts("rebuild_instance") == [
        {"host": "node-1", "instance_uuid": instance["uuid"], "image_ref": other["id"],
         "preserve_ephemeral": False}]
    _act(fakes, instance, {"rebuild": {"imageRef": other["id"]}}, p, 409)
    again = fakes.active(p)
    at219 = _act(fakes, again, {"rebuild": {"imageRef": other["id"],
                                            "description": "d"}}, p, 202,
                 version="2.19").json["server"]
    assert at219["description"] == "d" and at219["locked"] is False
    assert len(at219["adminPass"]) == 12
    fakes.set(again["uuid"], task_state=None)
    _act(fakes, again, {"rebuild": {"imageRef": str(uuid.uuid4())}}, p, 400)
    _act(fakes, again, {"rebuild": {"imageRef": "nope"}}, p, 400)
    _act(fakes, again, {"rebuild": {}}, p, 400)
    _act(fakes, again, {"rebuild": {"imageRef": other["id"],
                                    "metadata": {"a": "1", "b": "2", "c": "3"}}}, p, 403)


def test_resize_and_its_rules(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    bigger = fakes.make_flavor(disk=2, vcpus=2)
    resp = _act(fakes, instance, {"resize": {"flavorRef": fakes.flavor["id"]}}, p, 400)
    assert message(resp) == "When resizing, instances must change flavor!"
    _act(fakes, instance, {"resize": {"flavorRef": "nope"}}, p, 400)
    smaller = fakes.make_flavor(disk=0)
    _act(fakes, instance, {"resize": {"flavorRef": smaller["id"]}}, p, 400)
    huge = fakes.make_flavor(vcpus=16)
    resp = _act(fakes, instance, {"resize": {"flavorRef": huge["id"]}}, p, 403)
    assert "Quota exceeded for cores" in message(resp)
    _act(fakes, instance, {"resize": {"flavorRef": bigger["id"]}}, p, 202)
    assert fakes.store.get(instance["uuid"])["task_state"] == states.RESIZE_PREP
    (cast,) = fakes.boundary.casts("migrate_server")
    assert cast["instance_uuid"] == instance["uuid"] and cast["host"] is None
    assert cast["flavor"]["flavorid"] == bigger["id"] and cast["flavor"]["vcpus"] == 2
    _act(fakes, instance, {"resize": {"flavorRef": bigger["id"]}}, p, 409)
    fakes.call("POST", "/servers/%s/action" % uuid.uuid4(), p, status=404,
               json_body={"resize": {"flavorRef": bigger["id"]}})


def _resized(fakes: fx.Servers, p: str) -> tuple[dict[str, Any], str]:
    instance = fakes.active(p, host="src")
    fakes.up("dst")
    fakes.set(instance["uuid"], vm_state=states.RESIZED, host="dst")
    migration = str(uuid.uuid4())
    with fakes.db.writer() as session:
        session.add(models.Migration(
            uuid=migration, instance_uuid=instance["uuid"], migration_type="resize",
            status="finished", source_compute="src", dest_compute="dst",
            created_at=datetime.datetime.utcnow()))
    return fakes.store.get(instance["uuid"]), migration


def test_confirm_resize(fakes: fx.Servers) -> None:
    p = project()
    active = fakes.active(p)
    resp = _act(fakes, active, {"confirmResize": None}, p, 409)
    assert "vm_state active" in message(resp)
    instance, migration = _resized(fakes, p)
    shown = fakes.call("GET", "/servers/" + instance["uuid"], p).json["server"]
    assert shown["status"] == "VERIFY_RESIZE"
    _act(fakes, instance, {"confirmResize": None}, p, 204)
    assert fakes.boundary.casts("confirm_resize") == [
        {"host": "src", "instance_uuid": instance["uuid"], "migration_uuid": migration}]
    resp = _act(fakes, instance, {"confirmResize": None}, p, 400)
    assert message(resp) == "Instance has not been resized."


def test_revert_resize(fakes: fx.Servers) -> None:
    p = project()
    instance, migration = _resized(fakes, p)
    _act(fakes, instance, {"revertResize": None}, p, 202)
    assert fakes.store.get(instance["uuid"])["task_state"] == states.RESIZE_REVERTING
    assert fakes.boundary.casts("revert_resize") == [
        {"host": "dst", "instance_uuid": instance["uuid"], "migration_uuid": migration}]
    assert fakes.call("GET", "/servers/" + instance["uuid"], p).json["server"][
        "status"] == "REVERT_RESIZE"
    _act(fakes, instance, {"revertResize": None}, p, 409)


def test_migrate_is_for_admins(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    _act(fakes, instance, {"migrate": None}, p, 403)
    _act(fakes, instance, {"migrate": None}, None, 202, admin=True)
    (cast,) = fakes.boundary.casts("migrate_server")
    assert cast["flavor"] is None and cast["instance_uuid"] == instance["uuid"]
    _act(fakes, instance, {"migrate": None}, None, 409, admin=True)


def test_create_image(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    resp = _act(fakes, instance, {"createImage": {"name": "snap", "metadata": {"k": "v"}}},
                p, 202)
    (image,) = fakes.boundary.created_images
    assert resp.headers["Location"] == "http://localhost/images/" + image["id"]
    assert image["name"] == "snap" and image["image_type"] == "snapshot"
    assert image["instance_uuid"] == instance["uuid"] and image["k"] == "v"
    assert image["os_distro"] == "cirros" and image["min_disk"] == 1
    assert image["base_image_ref"] == fakes.image["id"]
    assert fakes.store.get(instance["uuid"])["task_state"] == states.IMAGE_SNAPSHOT
    assert fakes.boundary.casts("snapshot_instance") == [
        {"host": "node-1", "instance_uuid": instance["uuid"], "image_id": image["id"],
         "backup_type": None, "rotation": None}]
    # Busy now: refused before any image is made.
    _act(fakes, instance, {"createImage": {"name": "snap2"}}, p, 409)
    assert fakes.boundary.deleted_images == []
    fakes.set(instance["uuid"], vm_state=states.ERROR, task_state=None)
    _act(fakes, instance, {"createImage": {"name": "snap3"}}, p, 409)
    _act(fakes, instance, {"createImage": {}}, p, 400)
    _act(fakes, instance, {"createImage": {"name": ""}}, p, 400)


def test_create_backup(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    body = {"createBackup": {"name": "b", "backup_type": "daily", "rotation": 2}}
    resp = _act(fakes, instance, body, p, 202)
    (image,) = fakes.boundary.created_images
    assert resp.headers["Location"].endswith("/images/" + image["id"])
    assert image["image_type"] == "backup" and image["backup_type"] == "daily"
    (cast,) = fakes.boundary.casts("snapshot_instance")
    assert cast["backup_type"] == "daily" and cast["rotation"] == 2
    assert fakes.store.get(instance["uuid"])["task_state"] == states.IMAGE_BACKUP
    _act(fakes, instance, {"createBackup": {"name": "b", "backup_type": "daily"}}, p, 400)
    _act(fakes, instance, {"createBackup": {"name": "b", "backup_type": "daily",
                                            "rotation": -1}}, p, 400)


def test_console_output(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    resp = _act(fakes, instance, {"os-getConsoleOutput": {"length": 2}}, p, 200)
    assert resp.json == {"output": "line2\nline3\n"}
    resp = _act(fakes, instance, {"os-getConsoleOutput": {"length": "-1"}}, p, 200)
    assert resp.json["output"] == "line1\nline2\nline3\n"
    _act(fakes, instance, {"os-getConsoleOutput": {"length": -2}}, p, 400)
    _act(fakes, instance, {"os-getConsoleOutput": {"length": "x"}}, p, 400)
    fakes.boundary.rpc_error = messaging.MessagingTimeout("node gone")
    resp = fakes.api.app.request(
        "/v2.1/servers/%s/action" % instance["uuid"], method="POST", expect_errors=True,
        headers={"X-Test-Project": p, "Content-Type": "application/json"},
        body=b'{"os-getConsoleOutput": {}}')
    assert resp.status_int == 503


def test_reset_state(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    fakes.set(instance["uuid"], task_state=states.POWERING_OFF)
    _act(fakes, instance, {"os-resetState": {"state": "error"}}, p, 403)
    _act(fakes, instance, {"os-resetState": {"state": "error"}}, None, 202, admin=True)
    row = fakes.store.get(instance["uuid"])
    assert row["vm_state"] == states.ERROR and row["task_state"] is None
    _act(fakes, instance, {"os-resetState": {"state": "active"}}, None, 202, admin=True)
    assert fakes.store.get(instance["uuid"])["vm_state"] == states.ACTIVE
    _act(fakes, instance, {"os-resetState": {"state": "paused"}}, None, 400, admin=True)


def test_change_password_shelve_restore(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    resp = fakes.api.app.request(
        "/v2.1/servers/%s/action" % instance["uuid"], method="POST", expect_errors=True,
        headers={"X-Test-Project": p, "Content-Type": "application/json"},
        body=b'{"changePassword": {"adminPass": "x"}}')
    assert resp.status_int == 501
    (fault,) = resp.json.values()
    assert fault == {"code": 501, "message": "Unable to set password on instance"}
    fakes.set(instance["uuid"], vm_state=states.STOPPED)
    _act(fakes, instance, {"changePassword": {"adminPass": "x"}}, p, 409)
    _act(fakes, instance, {"changePassword": {}}, p, 400)
    _act(fakes, instance, {"shelve": None}, p, 202)
    _act(fakes, instance, {"unshelve": None}, p, 409)
    _act(fakes, instance, {"shelveOffload": None}, p, 403)
    _act(fakes, instance, {"restore": None}, p, 409)


def test_cast_failure_puts_the_task_state_back(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    fakes.boundary.rpc_error = messaging.MessageDeliveryFailure("bus down")
    resp = fakes.api.app.request(
        "/v2.1/servers/%s/action" % instance["uuid"], method="POST", expect_errors=True,
        headers={"X-Test-Project": p, "Content-Type": "application/json"},
        body=b'{"os-stop": null}')
    assert resp.status_int == 503
    assert fakes.store.get(instance["uuid"])["task_state"] is None
