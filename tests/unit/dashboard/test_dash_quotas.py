"""Admin Default Quotas panel: the defaults of each service as tables, and the
Update Defaults form only for the services whose API lets them change."""
from __future__ import annotations

import types
from typing import Any
from unittest import mock

from tests.unit.dashboard import conftest
from tests.unit.dashboard.conftest import PROJECT_ID, http_error
from tests.unit.dashboard.test_dash_identity_fakes import row, rows

DEFAULTS = {"instances": "10", "cores": "20", "ram": "51200", "key_pairs": "100",
            "server_groups": "10"}


def _defaults(conn: mock.MagicMock, volume_classes: bool = False) -> None:
    conn.compute.get_quota_set_defaults.return_value = types.SimpleNamespace(
        instances=10, cores=20, ram=51200, key_pairs=100, server_groups=10,
        server_group_members=10, metadata_items=128, injected_files=5,
        injected_file_content_bytes=10240, injected_file_path_bytes=255)
    conn.block_storage.get_quota_set_defaults.return_value = types.SimpleNamespace(
        volumes=10, gigabytes=1000, snapshots=10, backups=10, backup_gigabytes=1000,
        groups=10, per_volume_gigabytes=-1)
    conn.network.get_quota_default.return_value = types.SimpleNamespace(
        networks=100, subnets=100, ports=500, routers=10, floating_ips=50,
        security_groups=10, security_group_rules=100, subnet_pools=-1)
    conn.compute.get_quota_class_set.return_value = types.SimpleNamespace(id="default")
    if volume_classes:
        conn.block_storage.get_quota_class_set.return_value = types.SimpleNamespace(id="default")
    else:
        conn.block_storage.get_quota_class_set.side_effect = http_error(404, "not found")


def test_dash_quotas_defaults_tables(admin_client: Any, conn: mock.MagicMock) -> None:
    _defaults(conn)
    body = admin_client.get("/admin/quotas/").content.decode()
    assert rows(body, "compute_quotas")[:3] == ["instances", "cores", "ram"]
    assert "51200" in row(body, "ram")
    assert "unlimited" in row(body, "per_volume_gigabytes")
    assert "volumes" in rows(body, "volume_quotas")
    assert rows(body, "network_quotas")[0] == "networks"
    conn.compute.get_quota_set_defaults.assert_called_once_with(PROJECT_ID)
    conn.block_storage.get_quota_set_defaults.assert_called_once_with(PROJECT_ID)
    conn.network.get_quota_default.assert_called_once_with(PROJECT_ID)
    # compute defaults can change; volume (404) and network defaults are read-only
    assert 'id="update-defaults"' in body
    assert 'id="readonly-compute"' not in body
    assert 'id="readonly-block-storage"' in body and "answers 404" in body
    assert 'id="readonly-network"' in body


def test_dash_quotas_no_update_offered_when_nothing_can_change(admin_client: Any,
                                                               conn: mock.MagicMock) -> None:
    _defaults(conn)
    conn.compute.get_quota_class_set.side_effect = http_error(404, "not found")
    body = admin_client.get("/admin/quotas/").content.decode()
    assert 'id="update-defaults"' not in body and 'id="readonly-compute"' in body


def test_dash_quotas_service_error_shown(admin_client: Any, conn: mock.MagicMock) -> None:
    _defaults(conn)
    conn.network.get_quota_default.side_effect = http_error(503, "network is down")
    resp = admin_client.get("/admin/quotas/")
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "network is down (HTTP 503)" in body and 'id="compute_quotas"' in body


def test_dash_quotas_only_catalog_services(django_app: None, conn: mock.MagicMock) -> None:
    _defaults(conn)
    client = conftest._client(conftest.token_state(roles=("admin",),
                                                   services=("compute", "identity")))
    body = client.get("/admin/quotas/").content.decode()
    assert 'id="compute_quotas"' in body and 'id="volume_quotas"' not in body
    conn.network.get_quota_default.assert_not_called()


def test_dash_quotas_update_form_has_only_changeable_services(admin_client: Any,
                                                              conn: mock.MagicMock) -> None:
    _defaults(conn)
    body = admin_client.get("/admin/quotas/update/").content.decode()
    assert 'id="section-compute"' in body and 'name="instances" value="10"' in body
    assert 'id="section-block-storage"' not in body and 'id="note-block-storage"' in body
    assert 'id="section-network"' not in body and 'id="note-network"' in body


def test_dash_quotas_update_validates_first(admin_client: Any, conn: mock.MagicMock) -> None:
    _defaults(conn)
    resp = admin_client.post("/admin/quotas/update/", dict(DEFAULTS, cores="-3"))
    assert resp.status_code == 400
    assert "greater than or equal to -1" in resp.content.decode()
    conn.compute.update_quota_class_set.assert_not_called()


def test_dash_quotas_update_defaults_per_service(admin_client: Any,
                                                 conn: mock.MagicMock) -> None:
    _defaults(conn, volume_classes=True)
    form = dict(DEFAULTS, instances="20", volumes="15", gigabytes="1000", snapshots="10",
                backups="-1")
    resp = admin_client.post("/admin/quotas/update/", form)
    assert resp.status_code == 302 and resp["Location"] == "/admin/quotas/"
    conn.compute.update_quota_class_set.assert_called_once_with("default", instances=20)
    conn.block_storage.update_quota_class_set.assert_called_once_with(
        "default", volumes=15, backups=-1)
    conn.network.update_quota.assert_not_called()


def test_dash_quotas_update_refusal_on_the_form(admin_client: Any, conn: mock.MagicMock) -> None:
    _defaults(conn)
    conn.compute.update_quota_class_set.side_effect = http_error(403, "Policy forbids")
    resp = admin_client.post("/admin/quotas/update/", dict(DEFAULTS, instances="20"))
    assert resp.status_code == 400
    body = resp.content.decode()
    assert 'id="error-compute"' in body and "Policy forbids (HTTP 403)" in body


def test_dash_quotas_unchanged_form_calls_nothing(admin_client: Any,
                                                  conn: mock.MagicMock) -> None:
    _defaults(conn)
    resp = admin_client.post("/admin/quotas/update/", DEFAULTS, follow=True)
    assert "Nothing changed." in resp.content.decode()
    conn.compute.update_quota_class_set.assert_not_called()
