"""Instances panel: which row actions each state offers, the POST actions and
the action forms (resize and its confirmation, snapshot, volumes)."""
from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from tests.unit.dashboard import test_dash_instances_fakes as fakes
from tests.unit.dashboard.conftest import http_error

ALWAYS = {"Delete Instance", "Lock"}


def _labels(server: Any) -> set[str]:
    from dashboard.panels.project.instances import table

    return {a.label for a in table.project_actions() if a.allowed(server)}


@pytest.mark.parametrize("status,task,expected", [
    ("ACTIVE", None, {"Create Snapshot", "Associate Floating IP", "Attach Volume", "Resize",
                      "Stop", "Pause", "Suspend", "Soft Reboot", "Hard Reboot"}),
    ("SHUTOFF", None, {"Create Snapshot", "Associate Floating IP", "Attach Volume", "Resize",
                       "Start", "Hard Reboot"}),
    ("PAUSED", None, {"Create Snapshot", "Associate Floating IP", "Attach Volume", "Unpause",
                      "Hard Reboot"}),
    ("SUSPENDED", None, {"Create Snapshot", "Associate Floating IP", "Resume", "Hard Reboot"}),
    ("VERIFY_RESIZE", None, {"Attach Volume", "Confirm Resize", "Revert Resize"}),
    ("ERROR", None, {"Stop", "Hard Reboot"}),
    ("BUILD", "spawning", set()),
    ("ACTIVE", "powering-off", set()),
    ("ACTIVE", "rebooting", {"Hard Reboot", "Associate Floating IP"}),
])
def test_dash_instances_actions_follow_the_state(
        django_app: None, status: str, task: str | None, expected: set[str]) -> None:
    assert _labels(fakes.server(status=status, task=task)) == expected | ALWAYS


def test_dash_instances_actions_of_locked_and_attached(django_app: None) -> None:
    locked = fakes.server(locked=True)
    assert _labels(locked) == {"Create Snapshot", "Associate Floating IP", "Unlock"}
    attached = fakes.server(volumes=("vol-1",))
    assert "Detach Volume" in _labels(attached)
    deleting = fakes.server(task="deleting")
    assert "Delete Instance" not in _labels(deleting)
    no_ip = fakes.server(addresses={})
    assert "Associate Floating IP" not in _labels(no_ip)


def test_dash_instances_floating_ip_link(client: Any, conn: mock.MagicMock) -> None:
    conn.compute.servers.return_value = [fakes.server()]
    body = client.get("/project/instances/").content.decode()
    assert 'href="/project/floating_ips/associate/?instance_id=srv-1"' in body


@pytest.mark.parametrize("name,method,args", [
    ("start", "start_server", ()), ("stop", "stop_server", ()),
    ("soft_reboot", "reboot_server", ("SOFT",)), ("hard_reboot", "reboot_server", ("HARD",)),
    ("pause", "pause_server", ()), ("resume", "resume_server", ()),
    ("confirm_resize", "confirm_server_resize", ()),
    ("revert_resize", "revert_server_resize", ()), ("lock", "lock_server", ()),
    ("delete", "delete_server", ())])
def test_dash_instances_post_actions(client: Any, conn: mock.MagicMock, name: str,
                                     method: str, args: tuple[str, ...]) -> None:
    server = fakes.server()
    conn.compute.get_server.return_value = server
    resp = client.post("/project/instances/srv-1/action/%s/" % name)
    assert resp.status_code == 302 and resp["Location"] == "/project/instances/"
    getattr(conn.compute, method).assert_called_once_with(server, *args)


def test_dash_instances_resize_then_confirm(client: Any, conn: mock.MagicMock) -> None:
    conn.compute.get_server.return_value = fakes.server()
    conn.compute.flavors.return_value = fakes.FLAVORS
    form = client.get("/project/instances/srv-1/resize/").content.decode()
    assert "Current flavor: m1.tiny" in form
    assert 'value="2"' in form and '<option value="1"' not in form
    assert client.post("/project/instances/srv-1/resize/", {"flavor": ""}).status_code == 400
    resp = client.post("/project/instances/srv-1/resize/", {"flavor": "2"})
    assert resp.status_code == 302
    conn.compute.resize_server.assert_called_once_with(conn.compute.get_server.return_value, "2")
    verify = fakes.server(status="VERIFY_RESIZE", flavor={"id": "2"})
    conn.compute.servers.return_value = [verify]
    table = client.get("/project/instances/").content.decode()
    assert "Confirm Resize" in table and "/project/instances/srv-1/action/confirm_resize/" in table
    conn.compute.get_server.return_value = verify
    client.post("/project/instances/srv-1/action/confirm_resize/")
    conn.compute.confirm_server_resize.assert_called_once_with(verify)


def test_dash_instances_action_refusal_is_a_message(client: Any, conn: mock.MagicMock) -> None:
    conn.compute.get_server.return_value = fakes.server()
    conn.compute.servers.return_value = []
    conn.compute.stop_server.side_effect = http_error(
        409, "Cannot 'stop' instance srv-1 while it is in vm_state stopped")
    resp = client.post("/project/instances/srv-1/action/stop/", follow=True)
    assert "Cannot &#x27;stop&#x27; instance srv-1 while it is in vm_state stopped (HTTP 409)" \
        in resp.content.decode()
    assert client.get("/project/instances/srv-1/action/stop/").status_code == 405
    assert client.post("/project/instances/srv-1/action/explode/").status_code == 404


def test_dash_instances_snapshot(client: Any, conn: mock.MagicMock) -> None:
    server = fakes.server()
    conn.compute.get_server.return_value = server
    assert 'value="vm-srv-1-snapshot"' in \
        client.get("/project/instances/srv-1/snapshot/").content.decode()
    assert client.post("/project/instances/srv-1/snapshot/", {"name": ""}).status_code == 400
    resp = client.post("/project/instances/srv-1/snapshot/", {"name": "snap1"})
    assert resp.status_code == 302
    conn.compute.create_server_image.assert_called_once_with(server, "snap1")


def test_dash_instances_attach_and_detach_volume(client: Any, conn: mock.MagicMock) -> None:
    server = fakes.server()
    conn.compute.get_server.return_value = server
    conn.block_storage.volumes.return_value = [fakes.volume("vol-1", "data")]
    form = client.get("/project/instances/srv-1/attach_volume/").content.decode()
    assert '<option value="vol-1">data (1 GiB)</option>' in form
    bad = client.post("/project/instances/srv-1/attach_volume/",
                      {"volume": "vol-1", "device": "vdb"})
    assert bad.status_code == 400
    resp = client.post("/project/instances/srv-1/attach_volume/", {"volume": "vol-1"})
    assert resp.status_code == 302
    conn.compute.create_volume_attachment.assert_called_once_with(server, volume="vol-1")
    conn.block_storage.volumes.assert_called_with(status="available")

    attached = fakes.server(volumes=("vol-1",))
    conn.compute.get_server.return_value = attached
    conn.block_storage.volumes.return_value = [fakes.volume("vol-1", "data", status="in-use")]
    form = client.get("/project/instances/srv-1/detach_volume/").content.decode()
    assert '<option value="vol-1">data</option>' in form
    assert client.post("/project/instances/srv-1/detach_volume/",
                       {"volume": "vol-7"}).status_code == 400
    resp = client.post("/project/instances/srv-1/detach_volume/", {"volume": "vol-1"})
    assert resp.status_code == 302
    conn.compute.delete_volume_attachment.assert_called_once_with(attached, "vol-1",
                                                                  ignore_missing=False)


def test_dash_instances_boot_volume_is_not_offered_for_detach(
        client: Any, conn: mock.MagicMock) -> None:
    booted = fakes.server(image="", volumes=("vol-root", "vol-data"))
    conn.compute.get_server.return_value = booted
    conn.block_storage.volumes.return_value = [
        fakes.volume("vol-root", "root", attachments=[{"server_id": "srv-1", "device": None}]),
        fakes.volume("vol-data", "data",
                     attachments=[{"server_id": "srv-1", "device": "/dev/vdb"}])]
    form = client.get("/project/instances/srv-1/detach_volume/").content.decode()
    assert '<option value="vol-data">data</option>' in form and "vol-root" not in form
