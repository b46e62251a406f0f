"""os-migrateLive and evacuate (policy, bodies per microversion, state rules,
what reaches the conductor) and /servers/{id}/migrations (2.22-2.24: list and
show in-progress live migrations, abort, force-complete)."""
from __future__ import annotations

import uuid
from typing import Any

import oslo_messaging as messaging
import pytest
from compute_api_helpers import message, project

from compute import states
from compute.conductor import migrate
from compute.db import hosts
from compute.virt import exception as virt_exception
from tests.fixtures import compute as fx


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch, service: Any, api: Any) -> fx.Servers:
    return fx.Servers(api, service, fx.install_fakes(monkeypatch))


def _act(fakes: fx.Servers, instance: dict[str, Any], body: Any, status: int,
         version: str | None = None, admin: bool = True, **kwargs: Any) -> Any:
    return fakes.call("POST", "/servers/%s/action" % instance["uuid"],
                      None if admin else instance["project_id"], version=version,
                      admin=admin, json_body=body, status=status, **kwargs)


def _live(host: str | None = None, block: Any = False, **extra: Any) -> dict[str, Any]:
    return {"os-migrateLive": dict({"host": host, "block_migration": block,
                                    "disk_over_commit": False}, **extra)}


def _server(fakes: fx.Servers, **values: Any) -> dict[str, Any]:
    instance = fakes.active(project())
    fakes.up("node-2")
    if values:
        instance = fakes.set(instance["uuid"], **values)
    return instance


def _force_down(fakes: fx.Servers, host: str) -> None:
    [service] = fakes.host_store.service_list(binary=hosts.COMPUTE_BINARY, host=host)
    fakes.host_store.service_update(service["uuid"], {"forced_down": True})


def _raw(fakes: fx.Servers, instance: dict[str, Any], body: bytes) -> Any:
    return fakes.api.app.request(
        "/v2.1/servers/%s/action" % instance["uuid"], method="POST", expect_errors=True,
        headers={"X-Test-Project": fx.ADMIN_PROJECT, "X-Test-Roles": fx.ADMIN_ROLES,
                 "Content-Type": "application/json"}, body=body)


# -- os-migrateLive --------------------------------------------------------------------------


def test_live_migration_is_for_admins_and_reaches_the_conductor(fakes: fx.Servers) -> None:
    instance = _server(fakes)
    _act(fakes, instance, _live(), 403, admin=False)
    assert fakes.store.get(instance["uuid"])["task_state"] is None
    _act(fakes, instance, _live("node-2", "True"), 202)
    # A host named before 2.30 is forced (no scheduler filters), as in Nova.
    assert fakes.boundary.casts("live_migrate_instance") == [{
        "instance_uuid": instance["uuid"], "host": "node-2", "block_migration": True,
        "disk_over_commit": False, "force": True, "async_": False}]
    assert fakes.store.get(instance["uuid"])["task_state"] == states.MIGRATING
    assert fakes.store.list_actions(instance["uuid"])[0]["action"] == "live-migration"
    resp = _act(fakes, instance, _live(), 409)
    assert "while it is in task_state migrating" in message(resp)


@pytest.mark.parametrize("version,body,status,block", [
    ("2.1", _live(), 202, False),
    ("2.1", {"os-migrateLive": {"host": None, "block_migration": False}}, 400, None),
    ("2.24", _live(block="yes"), 202, True),
    ("2.25", {"os-migrateLive": {"host": None, "block_migration": "auto"}}, 202, None),
    ("2.25", _live(block="auto"), 400, None),
    ("2.25", {"os-migrateLive": {"host": None, "block_migration": False, "force": True}},
     400, None),
    ("2.24", _live(block="auto"), 400, None),
    ("2.1", {"os-migrateLive": {"block_migration": False, "disk_over_commit": False}}, 400,
     None),
    ("2.1", _live(host="bad host"), 400, None),
])
def test_live_migration_bodies(fakes: fx.Servers, version: str, body: dict[str, Any],
                               status: int, block: bool | None) -> None:
    instance = _server(fakes)
    _act(fakes, instance, body, status, version=version)
    calls = fakes.boundary.casts("live_migrate_instance")
    if status == 202:
        assert [c["block_migration"] for c in calls] == [block]
        assert calls[0]["disk_over_commit"] == (None if version == "2.25" else False)
    else:
        assert calls == []


def test_live_migration_states(fakes: fx.Servers) -> None:
    stopped = _server(fakes, vm_state=states.STOPPED)
    resp = _act(fakes, stopped, _live(), 409)
    assert message(resp) == ("Cannot 'os-migrateLive' instance %s while it is in vm_state "
                             "stopped" % stopped["uuid"])
    paused = _server(fakes, vm_state=states.PAUSED)
    _act(fakes, paused, _live(), 202)
    nowhere = _server(fakes, host=None)
    _act(fakes, nowhere, _live(), 409)


def test_an_unknown_host_is_a_400(fakes: fx.Servers) -> None:
    instance = _server(fakes)
    resp = _act(fakes, instance, _live("nowhere"), 400)
    assert message(resp) == "Compute host nowhere could not be found."
    assert fakes.store.get(instance["uuid"])["task_state"] is None


def test_the_conductors_refusal_is_the_answer(fakes: fx.Servers) -> None:
    instance = _server(fakes)
    fakes.boundary.rpc_error = virt_exception.MigrationPreCheckError(
        reason="Block migration can not be used with shared storage.")
    resp = _act(fakes, instance, _live(block=True), 400)
    assert message(resp) == ("Migration pre-check error: Block migration can not be used "
                             "with shared storage.")


def test_a_conductor_that_does_not_answer_is_a_503_and_nothing_changes(
        fakes: fx.Servers) -> None:
    instance = _server(fakes)
    fakes.boundary.rpc_error = messaging.MessagingTimeout("conductor gone")
    resp = _raw(fakes, instance, b'{"os-migrateLive": {"host": null, '
                                 b'"block_migration": false, "disk_over_commit": false}}')
    assert resp.status_int == 503
    assert fakes.store.get(instance["uuid"])["task_state"] is None


# -- evacuate ------------------------------------------------------------------------------------


def test_evacuation_needs_the_host_down(fakes: fx.Servers) -> None:
    instance = _server(fakes)
    _act(fakes, instance, {"evacuate": {}}, 403, version="2.14", admin=False)
    resp = _act(fakes, instance, {"evacuate": {}}, 400, version="2.14")
    assert message(resp) == "Compute service of node-1 is still in use."
    assert fakes.store.get(instance["uuid"])["task_state"] is None
    _force_down(fakes, "node-1")
    resp = _act(fakes, instance, {"evacuate": {"host": "node-2"}}, 200, version="2.14")
    assert resp.body == b""
    # A host named before 2.29 is forced (no scheduler filters), as in Nova.
    assert fakes.boundary.casts("evacuate_instance") == [
        {"instance_uuid": instance["uuid"], "host": "node-2", "force": True}]
    row = fakes.store.get(instance["uuid"])
    assert (row["vm_state"], row["task_state"]) == (states.ACTIVE, states.REBUILDING)
    assert fakes.store.list_actions(instance["uuid"])[0]["action"] == "evacuate"
    _act(fakes, instance, {"evacuate": {}}, 409, version="2.14")


def test_evacuation_bodies_before_2_14(fakes: fx.Servers) -> None:
    instance = _server(fakes)
    _force_down(fakes, "node-1")
    _act(fakes, instance, {"evacuate": {}}, 400)  # onSharedStorage is required
    resp = _act(fakes, instance, {"evacuate": {"onSharedStorage": True, "adminPass": "x"}},
                400)
    assert message(resp) == "admin password can't be changed on existing disk"
    resp = _act(fakes, instance, {"evacuate": {"onSharedStorage": "False",
                                               "adminPass": "s3cret"}}, 200)
    assert resp.json == {"adminPass": "s3cret"}
    fakes.set(instance["uuid"], task_state=None)
    resp = _act(fakes, instance, {"evacuate": {"onSharedStorage": False}}, 200)
    assert len(resp.json["adminPass"]) >= 8
    _act(fakes, instance, {"evacuate": {"onSharedStorage": False}}, 400, version="2.14")


def test_evacuation_targets_and_states(fakes: fx.Servers) -> None:
    instance = _server(fakes)
    _force_down(fakes, "node-1")
    resp = _act(fakes, instance, {"evacuate": {"host": "nowhere"}}, 404, version="2.14")
    assert message(resp) == "Compute host nowhere not found."
    resp = _act(fakes, instance, {"evacuate": {"host": "node-1"}}, 400, version="2.14")
    assert message(resp) == "The target host can't be the same one."
    for vm_state, status in ((states.PAUSED, 409), (states.STOPPED, 200),
                             (states.ERROR, 200)):
        fakes.set(instance["uuid"], vm_state=vm_state, task_state=None)
        _act(fakes, instance, {"evacuate": {}}, status, version="2.14")


def test_an_evacuation_the_conductor_does_not_take_is_a_503(fakes: fx.Servers) -> None:
    instance = _server(fakes)
    _force_down(fakes, "node-1")
    fakes.boundary.rpc_error = messaging.MessageDeliveryFailure("bus down")
    resp = _raw(fakes, instance, b'{"evacuate": {"onSharedStorage": false}}')
    assert resp.status_int == 503
    assert fakes.store.get(instance["uuid"])["task_state"] is None


# -- /servers/{id}/migrations ------------------------------------------------------------------


def _migration(fakes: fx.Servers, instance: dict[str, Any], status: str,
               migration_type: str = "live-migration") -> dict[str, Any]:
    return migrate.MigrationStore(fakes.db).update(str(uuid.uuid4()), {
        "instance_uuid": instance["uuid"], "migration_type": migration_type,
        "status": status, "source_compute": "node-1", "source_node": "node-1.local",
        "dest_compute": "node-2", "dest_node": "node-2"})


def _get(fakes: fx.Servers, path: str, status: int, version: str = "2.23",
         admin: bool = True, project_id: str | None = None) -> Any:
    return fakes.call("GET", path, project_id, version=version, admin=admin, status=status)


def test_in_progress_live_migrations_are_listed_and_shown(fakes: fx.Servers) -> None:
    instance = _server(fakes, task_state=states.MIGRATING)
    running = _migration(fakes, instance, "running")
    done = _migration(fakes, instance, "completed")
    _migration(fakes, instance, "migrating", "migration")
    base = "/servers/%s/migrations" % instance["uuid"]
    _get(fakes, base, 404, version="2.22")
    _get(fakes, base, 403, admin=False, project_id=instance["project_id"])
    resp = _get(fakes, base, 200)
    [found] = resp.json["migrations"]
    assert found == {
        "id": running["id"], "server_uuid": instance["uuid"], "status": "running",
        "source_compute": "node-1", "source_node": "node-1.local", "dest_compute": "node-2",
        "dest_node": "node-2", "dest_host": None, "created_at": found["created_at"],
        "updated_at": found["updated_at"], "disk_processed_bytes": None,
        "disk_remaining_bytes": None, "disk_total_bytes": None,
        "memory_processed_bytes": None, "memory_remaining_bytes": None,
        "memory_total_bytes": None}
    resp = _get(fakes, "%s/%s" % (base, running["id"]), 200)
    assert resp.json["migration"] == found
    resp = _get(fakes, "%s/%s" % (base, done["id"]), 404)
    assert message(resp) == "In-progress live migration %s is not found for server %s." % (
        done["id"], instance["uuid"])


def test_abort_and_force_complete_reach_the_source(fakes: fx.Servers) -> None:
    instance = _server(fakes)
    queued = _migration(fakes, instance, "queued")
    running = _migration(fakes, instance, "running")
    base = "/servers/%s/migrations/" % instance["uuid"]
    force = {"force_complete": None}
    fakes.call("DELETE", base + str(running["id"]), None, version="2.23", admin=True,
               status=404)
    fakes.call("POST", base + "%s/action" % running["id"], None, version="2.21", admin=True,
               json_body=force, status=404)
    resp = fakes.call("DELETE", base + str(running["id"]), None, version="2.24", admin=True,
                      status=409)
    assert "while it is in task_state None" in message(resp)

    fakes.set(instance["uuid"], task_state=states.MIGRATING)
    fakes.call("DELETE", base + str(running["id"]), instance["project_id"], version="2.24",
               status=403)
    fakes.call("DELETE", base + "999999", None, version="2.24", admin=True, status=404)
    resp = fakes.call("DELETE", base + str(queued["id"]), None, version="2.24", admin=True,
                      status=400)
    assert message(resp) == (
        "Migration %s state of instance %s is queued. Cannot abort live migration while "
        "the migration is in this state." % (queued["id"], instance["uuid"]))
    fakes.call("DELETE", base + str(running["id"]), None, version="2.24", admin=True,
               status=202)
    fakes.call("POST", base + "%s/action" % running["id"], None, version="2.22", admin=True,
               json_body={"force_complete": {}}, status=400)
    fakes.call("POST", base + "%s/action" % running["id"], None, version="2.22", admin=True,
               json_body=force, status=202)
    expected = {"host": "node-1", "instance_uuid": instance["uuid"],
                "migration_uuid": running["uuid"]}
    assert fakes.boundary.casts("live_migration_abort") == [expected]
    assert fakes.boundary.casts("live_migration_force_complete") == [expected]
    actions = [a["action"] for a in fakes.store.list_actions(instance["uuid"])]
    assert {"live_migration_cancel", "live_migration_force_complete"} <= set(actions)
