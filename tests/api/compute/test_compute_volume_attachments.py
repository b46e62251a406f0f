"""A server's volumes: ``/servers/{id}/os-volume_attachments`` (list, show,
attach with a block storage attachment, a mapping row and a cast to the node,
detach with a cast, swap refused), their states, lock and policy."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from compute_api_helpers import Api, message, project

from compute import exception
from compute.db import models
from tests.fixtures import compute as fx

ATTACHMENT_KEYS = {"id", "volumeId", "serverId", "device"}


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch, service: Any, api: Api) -> fx.Servers:
    return fx.Servers(api, service, fx.install_fakes(monkeypatch))


def _base(instance: dict[str, Any]) -> str:
    return "/servers/%s/os-volume_attachments" % instance["uuid"]


def _volume(fakes: fx.Servers, **values: Any) -> str:
    volume_id = str(uuid.uuid4())
    fakes.boundary.volumes[volume_id] = dict({"id": volume_id, "status": "available",
                                              "multiattach": False, "attachments": []},
                                             **values)
    return volume_id


def _attach(fakes: fx.Servers, project_id: str, instance: dict[str, Any], volume_id: str,
            status: int = 200, **extra: Any) -> Any:
    body = {"volumeAttachment": dict({"volumeId": volume_id}, **extra)}
    return fakes.call("POST", _base(instance), project_id, json_body=body, status=status)


def _rows(fakes: fx.Servers, instance_uuid: str) -> list[models.BlockDeviceMapping]:
    """The server's volume mappings (not the implicit image root disk)."""
    bdm = models.BlockDeviceMapping
    with fakes.db.reader() as session:
        rows = list(session.scalars(sa.select(bdm).where(
            bdm.instance_uuid == instance_uuid, bdm.destination_type == "volume")
            .order_by(bdm.id)))
        session.expunge_all()
    return rows


def test_attach_list_show(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    uuid_ = instance["uuid"]
    vol = _volume(fakes)
    resp = _attach(fakes, p, instance, vol)
    expected = {"id": vol, "volumeId": vol, "serverId": uuid_, "device": "/dev/vdb"}
    assert resp.json == {"volumeAttachment": expected}
    (row,) = _rows(fakes, uuid_)
    assert (row.source_type, row.destination_type, row.volume_id, row.device_name,
            row.boot_index, row.delete_on_termination) == (
        "volume", "volume", vol, "/dev/vdb", None, False)
    assert fakes.boundary.attachment_of[str(row.attachment_id)] == {
        "volume_id": vol, "instance_uuid": uuid_}
    assert fakes.boundary.casts("attach_volume") == [
        {"host": "node-1", "instance_uuid": uuid_, "bdm_uuid": row.uuid}]
    actions = fakes.call("GET", "/servers/%s/os-instance-actions" % uuid_, p,
                         status=200).json["instanceActions"]
    assert actions[0]["action"] == "attach_volume"
    # Read back by the project's readers.
    listed = fakes.call("GET", _base(instance), p, roles="reader", status=200).json
    assert listed == {"volumeAttachments": [expected]}
    shown = fakes.call("GET", _base(instance) + "/" + vol, p, roles="reader", status=200)
    assert shown.json == {"volumeAttachment": expected}
    server = fakes.call("GET", "/servers/" + uuid_, p, version="2.3", status=200).json
    assert server["server"]["os-extended-volumes:volumes_attached"] == [
        {"id": vol, "delete_on_termination": False}]
    # A second volume takes the next device.
    second = _volume(fakes)
    assert _attach(fakes, p, instance, second).json["volumeAttachment"]["device"] == "/dev/vdc"
    assert [a["volumeId"] for a in fakes.call("GET", _base(instance), p, status=200)
            .json["volumeAttachments"]] == [vol, second]


def test_requested_device_and_pages(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    devices = [_attach(fakes, p, instance, _volume(fakes), device=wanted)
               .json["volumeAttachment"]["device"]
               for wanted in ("/dev/vdf", "/dev/vdf", None, "/dev/sdc", "/dev/vda")]
    # Free names on the root's bus are honoured; others give the next free one.
    assert devices == ["/dev/vdf", "/dev/vdb", "/dev/vdc", "/dev/vdd", "/dev/vde"]
    page = fakes.call("GET", _base(instance) + "?limit=2&offset=1", p, status=200).json
    assert [a["device"] for a in page["volumeAttachments"]] == ["/dev/vdb", "/dev/vdc"]
    assert fakes.call("GET", _base(instance) + "?offset=9", p,
                      status=200).json == {"volumeAttachments": []}
    for query in ("limit=-1", "limit=x", "offset=1.5"):
        fakes.call("GET", _base(instance) + "?" + query, p, status=400)
    for item in fakes.call("GET", _base(instance), p, status=200).json["volumeAttachments"]:
        assert set(item) == ATTACHMENT_KEYS


@pytest.mark.parametrize("body", [
    {"volumeAttachment": {"volumeId": "not-a-uuid"}},
    {"volumeAttachment": {"device": "/dev/vdb"}},
    {"volumeAttachment": {"volumeId": "VOL", "device": "vdb"}},
    {"volumeAttachment": {"volumeId": "VOL", "device": "/dev/vd-b"}},
    {"volumeAttachment": {"volumeId": "VOL", "tag": "data"}},
    {"volumeAttachment": {"volumeId": "VOL", "delete_on_termination": True}},
    {"volumeAttachment": "VOL"},
    {"other": {}},
])
def test_attach_bad_bodies(fakes: fx.Servers, body: dict[str, Any]) -> None:
    p = project()
    instance = fakes.active(p)
    vol = _volume(fakes)
    inner = body.get("volumeAttachment")
    if isinstance(inner, dict) and inner.get("volumeId") == "VOL":
        inner["volumeId"] = vol
    fakes.call("POST", _base(instance), p, json_body=body, status=400)
    assert fakes.boundary.casts("attach_volume") == [] and _rows(fakes, instance["uuid"]) == []


def test_attach_volume_checks(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    missing = str(uuid.uuid4())
    resp = _attach(fakes, p, instance, missing, status=404)
    assert message(resp) == "Volume %s could not be found." % missing
    busy = _volume(fakes, status="in-use", attachments=[{"server_id": str(uuid.uuid4())}])
    resp = _attach(fakes, p, instance, busy, status=400)
    assert message(resp) == ("Invalid volume: volume '%s' status must be 'available'. "
                             "Currently in 'in-use'" % busy)
    shared = _volume(fakes, multiattach=True)
    resp = _attach(fakes, p, instance, shared, status=400)
    assert "2.60" in message(resp)
    vol = _volume(fakes)
    _attach(fakes, p, instance, vol)
    resp = _attach(fakes, p, instance, vol, status=400)
    assert message(resp) == "Invalid volume: volume %s already attached" % vol
    assert len(fakes.boundary.casts("attach_volume")) == 1
    assert len(_rows(fakes, instance["uuid"])) == 1
    # Block storage refusing the reservation leaves no mapping behind.
    fakes.boundary.attachment_error = exception.InvalidVolume(reason="volume is busy")
    resp = _attach(fakes, p, instance, _volume(fakes), status=400)
    assert message(resp) == "Invalid volume: volume is busy"
    assert len(_rows(fakes, instance["uuid"])) == 1


def test_states_lock_and_policy(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    uuid_ = instance["uuid"]
    for vm_state in ("paused", "stopped", "resized"):
        fakes.set(uuid_, vm_state=vm_state)
        _attach(fakes, p, instance, _volume(fakes))
    fakes.set(uuid_, vm_state="suspended")
    resp = _attach(fakes, p, instance, _volume(fakes), status=409)
    assert message(resp) == ("Cannot 'attach_volume' instance %s while it is in "
                             "vm_state suspended" % uuid_)
    # Shelved from 2.20 (its guest is kept); offloaded is not served.
    fakes.set(uuid_, vm_state="shelved")
    _attach(fakes, p, instance, _volume(fakes), status=409)
    body = {"volumeAttachment": {"volumeId": _volume(fakes)}}
    fakes.call("POST", _base(instance), p, version="2.20", json_body=body, status=200)
    fakes.set(uuid_, vm_state="shelved_offloaded", host=None)
    fakes.call("POST", _base(instance), p, version="2.20",
               json_body={"volumeAttachment": {"volumeId": _volume(fakes)}}, status=409)
    fakes.set(uuid_, vm_state="active", host="node-1", task_state="rebooting")
    _attach(fakes, p, instance, _volume(fakes), status=409)
    fakes.set(uuid_, task_state=None, locked=True, locked_by="owner")
    _attach(fakes, p, instance, _volume(fakes), status=409)
    fakes.call("POST", _base(instance), None, admin=True,
               json_body={"volumeAttachment": {"volumeId": _volume(fakes)}}, status=200)
    fakes.set(uuid_, locked=False, locked_by=None)
    fakes.call("POST", _base(instance), p, roles="reader",
               json_body={"volumeAttachment": {"volumeId": _volume(fakes)}}, status=403)
    fakes.call("GET", _base(instance), project(), status=404)
    fakes.call("GET", "/servers/%s/os-volume_attachments" % uuid.uuid4(), p, status=404)
    fakes.call("GET", _base(instance) + "/" + str(uuid.uuid4()), p, status=404)
    building = fakes.boot(p)
    fakes.call("POST", "/servers/%s/os-volume_attachments" % building, p,
               json_body={"volumeAttachment": {"volumeId": _volume(fakes)}}, status=409)
    assert len(fakes.boundary.casts("attach_volume")) == 5


def test_detach(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    uuid_ = instance["uuid"]
    vol = _volume(fakes)
    _attach(fakes, p, instance, vol)
    (row,) = _rows(fakes, uuid_)
    one = _base(instance) + "/" + vol
    # Still attaching (the node has not completed the attachment): 400.
    fakes.boundary.volumes[vol]["status"] = "reserved"
    fakes.call("DELETE", one, p, status=400)
    fakes.boundary.volumes[vol]["status"] = "in-use"
    fakes.call("DELETE", one, p, roles="reader", status=403)
    fakes.set(uuid_, vm_state="suspended")
    fakes.call("DELETE", one, p, status=409)
    fakes.set(uuid_, vm_state="active", locked=True, locked_by="owner")
    fakes.call("DELETE", one, p, status=409)
    fakes.set(uuid_, locked=False, locked_by=None)
    fakes.call("DELETE", one, p, status=202)
    assert fakes.boundary.casts("detach_volume") == [
        {"host": "node-1", "instance_uuid": uuid_, "volume_id": vol,
         "attachment_id": row.attachment_id}]
    actions = fakes.call("GET", "/servers/%s/os-instance-actions" % uuid_, p,
                         status=200).json["instanceActions"]
    assert actions[0]["action"] == "detach_volume"
    missing = str(uuid.uuid4())
    resp = fakes.call("DELETE", _base(instance) + "/" + missing, p, status=404)
    assert message(resp) == "Volume %s could not be found." % missing
    other = _volume(fakes, status="in-use")
    resp = fakes.call("DELETE", _base(instance) + "/" + other, p, status=404)
    assert message(resp) == "Instance %s is not attached to volume %s" % (uuid_, other)
    fakes.boundary.volumes[vol]["status"] = "available"
    resp = fakes.call("DELETE", one, p, status=400)
    assert message(resp) == "Invalid volume: volume %s already detached" % vol
    assert len(fakes.boundary.casts("detach_volume")) == 1


def test_boot_volume_is_listed_but_not_detachable(fakes: fx.Servers) -> None:
    p = project()
    root = _volume(fakes)
    bdm = [{"source_type": "volume", "destination_type": "volume", "uuid": root,
            "boot_index": 0, "device_name": "/dev/vda"}]
    server_id = fakes.boot(p, imageRef=None, block_device_mapping_v2=bdm)
    fakes.up("node-1")
    instance = fakes.set(server_id, vm_state="active", task_state=None, host="node-1",
                         node="node-1.local")
    listed = fakes.call("GET", _base(instance), p, status=200).json["volumeAttachments"]
    assert listed == [{"id": root, "volumeId": root, "serverId": server_id,
                       "device": "/dev/vda"}]
    fakes.boundary.volumes[root]["status"] = "in-use"
    resp = fakes.call("DELETE", _base(instance) + "/" + root, p, status=400)
    assert message(resp) == "Cannot detach a root device volume"
    # The next volume goes after the root disk.
    extra = _volume(fakes)
    assert _attach(fakes, p, instance, extra).json["volumeAttachment"]["device"] == "/dev/vdb"


def test_swap_is_refused(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    vol = _volume(fakes)
    _attach(fakes, p, instance, vol)
    new = _volume(fakes)
    body = {"volumeAttachment": {"volumeId": new}}
    one = _base(instance) + "/" + vol
    fakes.call("PUT", one, p, json_body=body, status=403)
    resp = fakes.call("PUT", one, None, admin=True, json_body=body, status=409)
    assert "not supported" in message(resp)
    fakes.call("PUT", one, None, admin=True, status=400,
               json_body={"volumeAttachment": {"volumeId": new, "device": "/dev/vdc"}})
    fakes.call("PUT", _base(instance) + "/" + new, None, admin=True, json_body=body,
               status=404)
    fakes.call("PUT", one, None, admin=True, status=404,
               json_body={"volumeAttachment": {"volumeId": str(uuid.uuid4())}})


def test_bus_down_undoes_the_attach(fakes: fx.Servers) -> None:
    import oslo_messaging

    p = project()
    instance = fakes.active(p)
    vol = _volume(fakes)
    fakes.boundary.rpc_error = oslo_messaging.MessagingTimeout("no answer")
    headers = {"X-Test-Project": p, "Content-Type": "application/json"}
    resp = fakes.api.app.request("/v2.1" + _base(instance), method="POST", headers=headers,
                                 expect_errors=True,
                                 body=b'{"volumeAttachment": {"volumeId": "%s"}}'
                                 % vol.encode())
    assert resp.status_int == 503
    assert _rows(fakes, instance["uuid"]) == []
    assert fakes.boundary.attachments == []


# -- the node's side of the casts (fake driver, fake conductor) ----------------------------


@pytest.fixture
def cloud(tmp_path: Any) -> Iterator[Any]:
    from tests.fixtures import compute_node as node_fx

    found = node_fx.Cloud(str(tmp_path))
    yield found
    found.close()


def _node_with_server(cloud: Any) -> tuple[Any, dict[str, Any], Any]:
    from tests.fixtures import compute_node as node_fx

    node = cloud.add_node("node-1", vcpus=8, memory_mb=4096, local_gb=100)
    node.init_host()
    inst = cloud.conductor.new_instance(node.host)
    ctxt = node_fx.ctxt()
    cloud.conductor.start_action(inst["uuid"], "create", ctxt.request_id)
    node.build_and_run_instance(ctxt, inst["uuid"], {}, {"vcpu": 64.0, "memory_mb": 65536.0,
                                                        "disk_gb": 1000.0}, node.host)
    return node, inst, ctxt


def _mapping(inst: dict[str, Any], name: str, device: str | None = "/dev/vdc") -> dict[str, Any]:
    return {"uuid": "bdm-" + name, "instance_uuid": inst["uuid"], "volume_id": "vol-" + name,
            "attachment_id": "att-" + name, "destination_type": "volume",
            "source_type": "volume", "device_name": device, "connection_info": None}


def test_node_attaches_at_the_device_the_api_chose_and_forgets_on_detach(cloud: Any) -> None:
    node, inst, ctxt = _node_with_server(cloud)
    cloud.conductor.bdms[inst["uuid"]] = [_mapping(inst, "1")]
    node.attach_volume(ctxt, inst["uuid"], "bdm-1")
    assert "vdc" in node.driver._guests[inst["uuid"]].volumes
    assert cloud.neighbours.volume_calls == [("connect", "att-1"), ("complete", "att-1")]
    node.detach_volume(ctxt, inst["uuid"], "vol-1", "att-1")
    assert "vdc" not in node.driver._guests[inst["uuid"]].volumes
    assert cloud.neighbours.volume_calls[-1] == ("disconnect", "att-1")
    # The mapping is gone with the attachment.
    assert cloud.conductor.bdms[inst["uuid"]] == []


def test_node_attach_failure_deletes_the_attachment_and_the_mapping(cloud: Any) -> None:
    node, inst, ctxt = _node_with_server(cloud)
    cloud.conductor.bdms[inst["uuid"]] = [_mapping(inst, "2")]
    node.driver.fail_next("attach_volume", RuntimeError("hot-plug refused"))
    node.attach_volume(ctxt, inst["uuid"], "bdm-2")
    assert cloud.neighbours.volume_calls == [("connect", "att-2"), ("disconnect", "att-2")]
    assert cloud.conductor.bdms[inst["uuid"]] == []
    assert node.driver._guests[inst["uuid"]].volumes == {}
    fault = cloud.conductor.faults(inst["uuid"])
    assert fault is not None
