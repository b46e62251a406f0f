"""Instances panel: the detail tabs, 404 for another project's server, and the
admin panel (all projects, 403 for members, the shared detail page)."""
from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from tests.unit.dashboard import test_dash_instances_fakes as fakes
from tests.unit.dashboard.conftest import OTHER_PROJECT_ID, http_error

TABS = ("", "log/", "console/", "actions/", "row/", "resize/", "snapshot/",
        "attach_volume/", "detach_volume/")


def _detail_lookups(conn: mock.MagicMock) -> None:
    conn.compute.get_flavor.return_value = fakes.FLAVORS[0]
    conn.image.get_image.return_value = fakes.image()
    conn.block_storage.get_volume.return_value = fakes.volume(
        "vol-1", "data", status="in-use",
        attachments=[{"server_id": "srv-1", "device": "/dev/vdb"}])


def test_dash_instances_overview(client: Any, conn: mock.MagicMock) -> None:
    _detail_lookups(conn)
    conn.compute.get_server.return_value = fakes.server(
        volumes=("vol-1",))
    body = client.get("/project/instances/srv-1/").content.decode()
    for text in ("vm-srv-1", "srv-1", "Running", "nova", "m1.tiny (1 vCPU, 128 MiB RAM, 1 GiB "
                 "disk)", "stratus-guest", "k1", "<strong>private</strong>: 10.0.0.5, "
                 "172.24.4.9 (floating)", "default", "<code>role</code> = web",
                 '<a href="/project/volumes/vol-1/">data</a> on /dev/vdb (1 GiB)',
                 'id="tab-log"', 'href="/project/instances/srv-1/console/"'):
        assert text in body, text
    assert 'id="instance-host"' not in body            # hosts are for admins
    assert ">Stop<" in body                            # the row's actions, on the page
    conn.compute.get_server.return_value = fakes.server(
        status="ERROR", fault={"message": "No valid host was found.", "code": 500})
    body = client.get("/project/instances/srv-1/").content.decode()
    assert "No valid host was found." in body and 'id="instance-fault"' in body


def test_dash_instances_log_tab(client: Any, conn: mock.MagicMock) -> None:
    server = fakes.server()
    conn.compute.get_server.return_value = server
    conn.compute.get_server_console_output.return_value = {
        "output": "login: <root>\r\n\x1b[6n"}
    body = client.get("/project/instances/srv-1/log/").content.decode()
    conn.compute.get_server_console_output.assert_called_with(server, length=35)
    assert '<pre class="console" id="console-log">login: &lt;root&gt;\n</pre>' in body
    assert 'href="?lines=0"' in body and "View Full Log" in body
    client.get("/project/instances/srv-1/log/?lines=0")
    conn.compute.get_server_console_output.assert_called_with(server, length=None)
    client.get("/project/instances/srv-1/log/?lines=100")
    conn.compute.get_server_console_output.assert_called_with(server, length=100)
    conn.compute.get_server_console_output.side_effect = http_error(
        409, "Instance is not ready yet")
    resp = client.get("/project/instances/srv-1/log/")
    assert resp.status_code == 200
    assert "The console log is not available: Instance is not ready yet" in \
        resp.content.decode()


def test_dash_instances_console_tab(client: Any, conn: mock.MagicMock) -> None:
    server = fakes.server()
    conn.compute.get_server.return_value = server
    conn.compute.create_console.return_value = {
        "type": "novnc", "protocol": "vnc", "url": "http://127.0.0.1:6080/vnc.html?token=t1"}
    body = client.get("/project/instances/srv-1/console/").content.decode()
    conn.compute.create_console.assert_called_once_with(server, console_type="novnc")
    assert 'src="http://127.0.0.1:6080/vnc.html?token=t1"' in body
    assert 'id="console-fullscreen"' in body
    conn.compute.create_console.side_effect = http_error(400, "Unavailable console type novnc.")
    body = client.get("/project/instances/srv-1/console/").content.decode()
    assert "No VNC console is available for this instance" in body
    assert "Unavailable console type novnc." in body and "<iframe" not in body


def test_dash_instances_action_log_tab(client: Any, conn: mock.MagicMock) -> None:
    server = fakes.server()
    conn.compute.get_server.return_value = server
    conn.compute.server_actions.return_value = [
        fakes.action("req-1", "create", "2026-01-01T00:00:00Z"),
        fakes.action("req-2", "stop", "2026-01-01T01:00:00Z")]
    body = client.get("/project/instances/srv-1/actions/").content.decode()
    conn.compute.server_actions.assert_called_once_with(server)
    assert body.index("req-2") < body.index("req-1")           # newest first
    assert "2026-01-01 01:00 UTC" in body and 'id="row-req-1"' in body


@pytest.mark.parametrize("tail", TABS)
def test_dash_instances_member_gets_404_for_another_projects_server(
        client: Any, conn: mock.MagicMock, tail: str) -> None:
    conn.compute.get_server.side_effect = http_error(404, "Instance srv-9 could not be found.")
    assert client.get("/project/instances/srv-9/" + tail).status_code == 404


@pytest.mark.parametrize("tail", TABS)
def test_dash_instances_admin_gets_404_for_another_projects_server_in_project_panel(
        admin_client: Any, conn: mock.MagicMock, tail: str) -> None:
    conn.compute.get_server.return_value = fakes.other_server()
    assert admin_client.get("/project/instances/srv-9/" + tail).status_code == 404
    resp = admin_client.post("/project/instances/srv-9/action/delete/")
    assert resp.status_code == 404
    conn.compute.delete_server.assert_not_called()


def test_dash_instances_admin_pages_are_403_for_members(client: Any, conn: mock.MagicMock) -> None:
    for path in ("/admin/instances/", "/admin/instances/srv-1/", "/admin/instances/srv-1/row/"):
        assert client.get(path).status_code == 403
    assert client.post("/admin/instances/srv-1/delete/").status_code == 403
    conn.compute.servers.assert_not_called()


def test_dash_instances_admin_table(admin_client: Any, conn: mock.MagicMock) -> None:
    conn.compute.servers.return_value = [fakes.server(), fakes.other_server()]
    conn.compute.flavors.return_value = fakes.FLAVORS
    conn.image.images.return_value = [fakes.image()]
    conn.identity.projects.return_value = fakes.projects()
    body = admin_client.get("/admin/instances/").content.decode()
    conn.compute.servers.assert_called_once_with(details=True, all_projects=True)
    conn.identity.projects.assert_called_once_with()
    conn.compute.get_server.assert_not_called()
    assert '<td data-col="project">demo</td>' in body
    assert '<td data-col="project">other</td>' in body
    assert '<td data-col="host">node-1</td>' in body
    assert 'href="/admin/instances/srv-9/"' in body
    assert 'action="/admin/instances/srv-9/delete/"' in body
    assert "/action/stop/" not in body and "Launch Instance" not in body


def test_dash_instances_admin_detail_and_delete(admin_client: Any, conn: mock.MagicMock) -> None:
    _detail_lookups(conn)
    server = fakes.other_server()
    conn.compute.get_server.return_value = server
    body = admin_client.get("/admin/instances/srv-9/").content.decode()
    assert 'id="instance-host">node-1' in body and OTHER_PROJECT_ID in body
    assert 'href="/admin/instances/srv-9/log/"' in body
    assert 'action="/admin/instances/srv-9/delete/"' in body
    conn.identity.get_project.return_value = fakes.projects()[1]
    row = admin_client.get("/admin/instances/srv-9/row/").content.decode()
    assert row.startswith('<tr id="row-srv-9"') and ">other<" in row
    resp = admin_client.post("/admin/instances/srv-9/delete/")
    assert resp.status_code == 302 and resp["Location"] == "/admin/instances/"
    conn.compute.delete_server.assert_called_once_with(server)
