"""Instances panel: the table (no per-row calls), refreshing rows, the launch
form's validation and the exact create_server arguments."""
from __future__ import annotations

import base64
import re
from typing import Any
from unittest import mock

from tests.unit.dashboard import test_dash_instances_fakes as fakes
from tests.unit.dashboard.conftest import http_error


def test_dash_instances_table_makes_no_per_row_calls(client: Any, conn: mock.MagicMock) -> None:
    servers = [fakes.server("srv-%03d" % n) for n in range(99)]
    servers.append(fakes.server("srv-new", status="BUILD", task="spawning",
                                image="", flavor={"original_name": "m1.big", "vcpus": 4,
                                                  "ram": 8192, "disk": 80}))
    conn.compute.servers.return_value = servers
    conn.compute.flavors.return_value = fakes.FLAVORS
    conn.image.images.return_value = [fakes.image()]
    resp = client.get("/project/instances/")
    assert resp.status_code == 200
    body = resp.content.decode()
    conn.compute.servers.assert_called_once_with(details=True)
    conn.compute.flavors.assert_called_once_with()
    conn.image.images.assert_called_once_with()
    for per_row in (conn.compute.get_server, conn.compute.get_flavor, conn.image.get_image):
        per_row.assert_not_called()
    assert body.count('<tr id="row-srv-') == 100
    row = re.search(r'<tr id="row-srv-001".*?</tr>', body, re.S).group(0)  # type: ignore
    assert 'href="/project/instances/srv-001/"' in row and "vm-srv-001" in row
    assert "stratus-guest" in row and "m1.tiny" in row and "k1" in row
    assert "10.0.0.5, 172.24.4.9 (floating)" in row
    assert '<span class="status ok">ACTIVE</span>' in row and "Running" in row
    assert "data-refresh" not in row
    new = re.search(r'<tr id="row-srv-new".*?</tr>', body, re.S).group(0)  # type: ignore
    assert 'data-refresh="/project/instances/srv-new/row/"' in new
    assert "m1.big" in new and "(booted from volume)" in new and "spawning" in new
    assert 'href="/project/instances/launch/"' in body and "Launch Instance" in body
    # (Page times are a figure, not an assertion: tests/functional/dashboard/
    # test_dash_pages.py records them against a real cloud.)


def test_dash_instances_names_fall_back_to_ids(client: Any, conn: mock.MagicMock) -> None:
    conn.compute.servers.return_value = [fakes.server(image={"id": "gone"},
                                                      flavor={"id": "77"})]
    conn.compute.flavors.return_value = []
    conn.image.images.side_effect = http_error(503, "image service down")
    body = client.get("/project/instances/").content.decode()
    assert ">gone<" in body and ">77<" in body


def test_dash_instances_row_refreshes_until_stable(client: Any, conn: mock.MagicMock) -> None:
    conn.compute.get_flavor.return_value = fakes.FLAVORS[0]
    conn.image.get_image.return_value = fakes.image()
    conn.compute.get_server.return_value = fakes.server(status="BUILD", task="spawning")
    building = client.get("/project/instances/srv-1/row/").content.decode()
    assert building.startswith('<tr id="row-srv-1"')
    assert 'data-refresh="/project/instances/srv-1/row/"' in building
    conn.compute.get_server.return_value = fakes.server()
    active = client.get("/project/instances/srv-1/row/").content.decode()
    assert "data-refresh" not in active and '<span class="status ok">ACTIVE</span>' in active
    assert "m1.tiny" in active and "stratus-guest" in active and ">Stop<" in active
    conn.compute.get_server.side_effect = http_error(404, "Instance could not be found")
    assert client.get("/project/instances/srv-1/row/").status_code == 404


def test_dash_instances_launch_form_choices(client: Any, conn: mock.MagicMock) -> None:
    fakes.setup_lists(conn)
    body = client.get("/project/instances/launch/?image=" + fakes.IMAGE_ID).content.decode()
    assert "m1.tiny (1 vCPU, 128 MiB RAM, 1 GiB disk)" in body
    assert "m1.small (1 vCPU, 2 GiB RAM, 20 GiB disk)" in body
    assert '<option value="%s" selected>' % fakes.IMAGE_ID in body
    assert "kernel" not in body and "queued" not in body            # not bootable / active
    assert "bootvol" in body and ">data (" not in body               # bootable volumes only
    assert "private" in body and "shared-net (shared)" in body
    assert "public" not in body and "theirs" not in body             # external / foreign
    assert re.search(r'value="default"[^>]*checked', body)
    assert '<option value="nova">nova</option>' in body
    body = client.get("/project/instances/launch/?volume=vol-boot").content.decode()
    assert '<option value="volume" selected>' in body
    assert '<option value="vol-boot" selected>' in body


def _launch(**fields: Any) -> dict[str, Any]:
    data = {"name": "web", "count": "1", "source_type": "image", "image": fakes.IMAGE_ID,
            "flavor": "1", "networks": ["net-1"], "security_groups": ["default"]}
    data.update(fields)
    return data


def test_dash_instances_launch_validates_before_the_api(
        client: Any, conn: mock.MagicMock) -> None:
    fakes.setup_lists(conn)
    cases: list[tuple[dict[str, Any], str]] = [({"image": ""}, "Choose the image to boot from."),
             ({"source_type": "volume"}, "Choose the volume to boot from."),
             ({"count": "0"}, "greater than or equal to 1"),
             ({"count": "101"}, "less than or equal to 100"),
             ({"networks": []}, "Choose at least one network."),
             ({"flavor": ""}, "This field is required."),
             ({"networks": ["net-x"]}, "Select a valid choice."),
             ({"source_type": "volume", "volume": "vol-boot", "count": "2"},
              "A volume boots one instance: launch one at a time.")]
    for fields, error in cases:
        resp = client.post("/project/instances/launch/", _launch(**fields))
        assert resp.status_code == 400, fields
        assert error in resp.content.decode(), fields
    conn.image.images.return_value = [fakes.image(min_ram=512)]
    resp = client.post("/project/instances/launch/", _launch())
    assert "The image needs at least 512 MiB of RAM; this flavor has 128 MiB." in \
        resp.content.decode()
    conn.compute.create_server.assert_not_called()


def test_dash_instances_launch_from_image(client: Any, conn: mock.MagicMock) -> None:
    fakes.setup_lists(conn)
    script = "#!/bin/sh\necho héllo\n"
    resp = client.post("/project/instances/launch/", _launch(
        count="2", availability_zone="nova", networks=["net-1", "net-sh"], key_name="k1",
        security_groups=["default", "web"], user_data=script, config_drive="on"))
    assert resp.status_code == 302 and resp["Location"] == "/project/instances/"
    conn.compute.create_server.assert_called_once_with(
        name="web", flavor_id="1", min_count=2, max_count=2, image_id=fakes.IMAGE_ID,
        availability_zone="nova", networks=[{"uuid": "net-1"}, {"uuid": "net-sh"}],
        key_name="k1", security_groups=[{"name": "default"}, {"name": "web"}],
        user_data=base64.b64encode(script.encode()).decode(), config_drive=True)
    page = client.get("/project/instances/").content.decode()
    assert "Launching 2 instances named web." in page


def test_dash_instances_launch_from_volume(client: Any, conn: mock.MagicMock) -> None:
    fakes.setup_lists(conn)
    resp = client.post("/project/instances/launch/", _launch(
        source_type="volume", volume="vol-boot", image="", security_groups=[]))
    assert resp.status_code == 302
    conn.compute.create_server.assert_called_once_with(
        name="web", flavor_id="1", min_count=1, max_count=1, networks=[{"uuid": "net-1"}],
        block_device_mapping=[{"uuid": "vol-boot", "source_type": "volume",
                               "destination_type": "volume", "boot_index": 0,
                               "delete_on_termination": False}])


def test_dash_instances_launch_network_rules(client: Any, conn: mock.MagicMock) -> None:
    fakes.setup_lists(conn, networks=[fakes.net("net-1", "private")])
    assert client.post("/project/instances/launch/", _launch(networks=[])).status_code == 302
    assert conn.compute.create_server.call_args.kwargs["networks"] == [{"uuid": "net-1"}]
    conn.compute.create_server.reset_mock()
    client.post("/project/instances/launch/", _launch(user_data="#!/bin/sh\r\necho hi\r\n"))
    sent = conn.compute.create_server.call_args.kwargs["user_data"]
    assert base64.b64decode(sent) == b"#!/bin/sh\necho hi\n"      # browsers send CRLF
    conn.compute.create_server.reset_mock()
    fakes.setup_lists(conn, networks=[])
    assert client.post("/project/instances/launch/", _launch(networks=[])).status_code == 302
    assert "networks" not in conn.compute.create_server.call_args.kwargs


def test_dash_instances_launch_shows_the_api_refusal(client: Any, conn: mock.MagicMock) -> None:
    fakes.setup_lists(conn)
    conn.compute.create_server.side_effect = http_error(403, "Quota exceeded for instances")
    resp = client.post("/project/instances/launch/", _launch())
    assert resp.status_code == 400
    body = resp.content.decode()
    assert "Quota exceeded for instances (HTTP 403)" in body and 'value="web"' in body
