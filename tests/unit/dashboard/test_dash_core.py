"""The dashboard's frame: login required, expiry, admin-only panels, API errors
as pages, the overview and the key pairs panel."""
from __future__ import annotations

from typing import Any
from unittest import mock

from tests.unit.dashboard.conftest import http_error


def test_dash_pages_need_a_login(anon_client: Any) -> None:
    resp = anon_client.get("/project/overview/")
    assert resp.status_code == 302
    assert resp["Location"] == "/auth/login/?next=%2Fproject%2Foverview%2F"
    assert anon_client.get("/auth/login/").status_code == 200


def test_dash_expired_token_brings_back_the_login_page(expired_client: Any) -> None:
    resp = expired_client.get("/project/keypairs/")
    assert resp.status_code == 302 and resp["Location"].startswith("/auth/login/")
    page = expired_client.get(resp["Location"])
    assert "Your session has expired" in page.content.decode()


def test_dash_member_gets_403_on_admin_pages(client: Any) -> None:
    resp = client.get("/admin/hypervisors/")
    assert resp.status_code == 403
    body = resp.content.decode()
    assert "administrators" in body and "Traceback" not in body
    # and sees no admin navigation
    assert "/admin/" not in client.get("/project/keypairs/").content.decode()


def test_dash_admin_sees_admin_navigation(admin_client: Any, conn: mock.MagicMock) -> None:
    conn.compute.keypairs.return_value = []
    body = admin_client.get("/project/keypairs/").content.decode()
    assert 'href="/admin/hypervisors/"' in body


def test_dash_keypairs_table_lists_the_keys(client: Any, conn: mock.MagicMock) -> None:
    key = mock.Mock(type="ssh", fingerprint="aa:bb:cc")
    key.name = "k1"
    conn.compute.keypairs.return_value = [key]
    body = client.get("/project/keypairs/").content.decode()
    assert '<tr id="row-k1" data-id="k1">' in body
    assert "aa:bb:cc" in body and "<th>Fingerprint</th>" in body
    assert 'action="/project/keypairs/k1/delete/"' in body


def test_dash_api_404_is_a_404_page(client: Any, conn: mock.MagicMock) -> None:
    conn.compute.get_keypair.side_effect = http_error(404, "Keypair k9 not found")
    resp = client.get("/project/keypairs/k9/")
    assert resp.status_code == 404
    assert "another project" in resp.content.decode()


def test_dash_api_error_shows_the_message(client: Any, conn: mock.MagicMock) -> None:
    conn.compute.keypairs.side_effect = http_error(503, "compute is down for maintenance")
    resp = client.get("/project/keypairs/")
    assert resp.status_code == 502
    body = resp.content.decode()
    assert "compute is down for maintenance (HTTP 503)" in body
    assert "Traceback" not in body


def test_dash_api_401_logs_out(client: Any, conn: mock.MagicMock) -> None:
    conn.compute.keypairs.side_effect = http_error(401, "token expired")
    resp = client.get("/project/keypairs/")
    assert resp.status_code == 302 and resp["Location"].startswith("/auth/login/")


def test_dash_overview_charts(client: Any, conn: mock.MagicMock) -> None:
    conn.compute.get_limits.return_value.absolute = mock.Mock(
        instances_used=3, instances=10, total_cores_used=3, total_cores=20,
        total_ram_used=384, total_ram=51200)
    conn.block_storage.get_limits.return_value.absolute = mock.Mock(
        total_volumes_used=9, max_total_volumes=10, total_gigabytes_used=5,
        max_total_volume_gigabytes=1000, total_snapshots_used=0, max_total_snapshots=-1)
    conn.network.get_quota.return_value = mock.Mock(
        floating_ips={"used": 1, "limit": 50}, security_groups={"used": 1, "limit": 10},
        networks={"used": 1, "limit": 100}, ports={"used": 2, "limit": 500},
        routers={"used": 0, "limit": 10})
    body = client.get("/project/overview/").content.decode()
    assert "Used 3 of 10" in body
    assert 'stroke-dasharray="30 100"' in body          # instances 3/10
    assert 'class="arc bad"' in body                    # volumes 9/10
    assert "Used 0 of unlimited" in body                # snapshots -1


def test_dash_keypair_create_downloads_the_private_key_once(
        client: Any, conn: mock.MagicMock) -> None:
    conn.compute.create_keypair.return_value = mock.Mock(private_key="-----PRIVATE-----")
    conn.compute.create_keypair.return_value.name = "k1"
    resp = client.post("/project/keypairs/create/", {"name": "k1", "key_type": "ssh"})
    assert resp.status_code == 302 and resp["Location"] == "/project/keypairs/k1/created/"
    conn.compute.create_keypair.assert_called_once_with(name="k1", type="ssh")
    first = client.get("/project/keypairs/k1/download/")
    assert first.content == b"-----PRIVATE-----"
    assert first["Content-Disposition"] == 'attachment; filename="k1.pem"'
    assert client.get("/project/keypairs/k1/download/").status_code == 404


def test_dash_keypair_form_validates_before_the_api(client: Any, conn: mock.MagicMock) -> None:
    resp = client.post("/project/keypairs/import/", {"name": "bad/name", "public_key": "nope"})
    assert resp.status_code == 400
    body = resp.content.decode()
    assert "This is not an OpenSSH public key" in body and "Enter a valid value" in body
    conn.compute.create_keypair.assert_not_called()


def test_dash_keypair_api_refusal_is_shown_on_the_form(client: Any, conn: mock.MagicMock) -> None:
    conn.compute.create_keypair.side_effect = http_error(409, "Key pair 'k1' already exists.")
    resp = client.post("/project/keypairs/import/",
                       {"name": "k1", "public_key": "ssh-ed25519 AAAAC3Nza k@h"})
    assert resp.status_code == 400
    assert "Key pair &#x27;k1&#x27; already exists. (HTTP 409)" in resp.content.decode()


def test_dash_html_error_bodies_become_plain_text() -> None:
    from unittest import mock as m

    from openstack import exceptions as sdk_exc

    from dashboard import errors

    resp = m.MagicMock(status_code=413, headers={}, text="<html><h1>Request Entity Too "
                       "Large</h1><p>Quota &amp; limits exceeded</p></html>")
    resp.json.side_effect = ValueError("not json")
    err = sdk_exc.HttpException(message="x", response=resp)
    assert errors.message(err) == "Request Entity Too Large Quota & limits exceeded (HTTP 413)"


def test_dash_status_line_of_text_error_bodies_is_dropped() -> None:
    from unittest import mock as m

    from openstack import exceptions as sdk_exc

    from dashboard import errors

    resp = m.MagicMock(status_code=415, headers={}, text="415 Unsupported Media Type\n\n"
                       "Image data does not match the declared disk_format qcow2.\n\n   ")
    resp.json.side_effect = ValueError("not json")
    err = sdk_exc.HttpException(message="x", response=resp)
    assert errors.message(err) == ("Image data does not match the declared disk_format "
                                   "qcow2. (HTTP 415)")


def test_dash_api_access_lists_the_catalog_and_gives_an_openrc(client: Any) -> None:
    body = client.get("/project/api_access/").content.decode()
    assert "http://127.0.0.1:1/compute" in body and "block-storage" in body
    rc = client.get("/project/api_access/openrc/")
    assert rc["Content-Disposition"] == 'attachment; filename="demo-openrc.sh"'
    text = rc.content.decode()
    assert "export OS_PROJECT_ID='p-demo-0001'" in text
    assert "export OS_USERNAME='demo'" in text and "read -sr OS_PASSWORD_INPUT" in text
    assert "OS_PASSWORD=" in text and "secret" not in text
