"""Admin Projects panel: table, create/edit/delete with self-protection,
members, and the project quotas form."""
from __future__ import annotations

import types
from typing import Any
from unittest import mock

import pytest

from tests.unit.dashboard import conftest
from tests.unit.dashboard.conftest import PROJECT_ID, http_error
from tests.unit.dashboard.test_dash_identity_fakes import (
    ME, assignment, keystone, row, rows)


def test_dash_identity_projects_table_one_call_per_kind(admin_client: Any,
                                                        conn: mock.MagicMock) -> None:
    ks = keystone(conn)
    ks.projects.return_value.append(types.SimpleNamespace(
        id="p-3", name="off", description="x", domain_id="default", is_enabled=False))
    body = admin_client.get("/admin/projects/").content.decode()
    assert rows(body, "projects") == [PROJECT_ID, "p-3", "p-2"]        # by name
    assert 'href="/admin/projects/p-2/"' in body and "Create Project" in body
    assert '<span class="status bad">disabled</span>' in row(body, "p-3")
    assert "Default" in row(body, "p-2")
    # the admin's own current project cannot be deleted; the others can
    assert "/delete/" not in row(body, PROJECT_ID)
    assert 'action="/admin/projects/p-2/delete/"' in row(body, "p-2")
    for action in ("Edit", "Manage Members", "Modify Quotas"):
        assert action in row(body, PROJECT_ID)
    ks.projects.assert_called_once_with()
    ks.domains.assert_called_once_with()


def test_dash_identity_project_create_validates_then_creates(admin_client: Any,
                                                             conn: mock.MagicMock) -> None:
    ks = keystone(conn)
    resp = admin_client.post("/admin/projects/create/",
                             {"name": "  ", "domain": "default", "enabled": "on"})
    assert resp.status_code == 400
    resp = admin_client.post("/admin/projects/create/", {"name": "p", "domain": "nope"})
    assert resp.status_code == 400 and "Select a valid choice" in resp.content.decode()
    ks.create_project.assert_not_called()
    ks.create_project.return_value = types.SimpleNamespace(id="p-9", name="dash-p")
    resp = admin_client.post("/admin/projects/create/", {
        "name": "dash-p", "description": "d", "domain": "default", "enabled": "on"})
    assert resp.status_code == 302 and resp["Location"] == "/admin/projects/"
    ks.create_project.assert_called_once_with(name="dash-p", description="d",
                                              domain_id="default", is_enabled=True)


def test_dash_identity_project_create_refusal_on_the_form(admin_client: Any,
                                                          conn: mock.MagicMock) -> None:
    keystone(conn).create_project.side_effect = http_error(409, "Duplicate project name")
    resp = admin_client.post("/admin/projects/create/", {"name": "demo", "domain": "default"})
    assert resp.status_code == 400
    assert "Duplicate project name (HTTP 409)" in resp.content.decode()


def test_dash_identity_project_edit(admin_client: Any, conn: mock.MagicMock) -> None:
    ks = keystone(conn)
    page = admin_client.get("/admin/projects/p-2/edit/").content.decode()
    assert 'value="other"' in page and 'id="id_enabled" checked' in page
    resp = admin_client.post("/admin/projects/p-2/edit/", {"name": "other2", "description": ""})
    assert resp.status_code == 302
    ks.update_project.assert_called_once_with("p-2", name="other2", description="",
                                              is_enabled=False)


def test_dash_identity_project_own_cannot_be_disabled_or_deleted(
        admin_client: Any, conn: mock.MagicMock) -> None:
    ks = keystone(conn)
    resp = admin_client.post("/admin/projects/%s/edit/" % PROJECT_ID, {"name": "demo"})
    assert resp.status_code == 400 and "switch to another" in resp.content.decode()
    ks.update_project.assert_not_called()
    resp = admin_client.post("/admin/projects/%s/delete/" % PROJECT_ID, follow=True)
    assert "cannot be deleted" in resp.content.decode()
    ks.delete_project.assert_not_called()
    assert admin_client.get("/admin/projects/p-2/delete/").status_code == 405
    resp = admin_client.post("/admin/projects/p-2/delete/")
    assert resp.status_code == 302
    ks.delete_project.assert_called_once_with("p-2", ignore_missing=False)


def test_dash_identity_project_detail_and_404(admin_client: Any, conn: mock.MagicMock) -> None:
    ks = keystone(conn)
    body = admin_client.get("/admin/projects/p-2/").content.decode()
    assert "Project other" in body and "p-2" in body and "Default" in body
    ks.get_project.side_effect = http_error(404, "Could not find project: nope")
    assert admin_client.get("/admin/projects/nope/").status_code == 404
    assert admin_client.get("/admin/projects/nope/members/").status_code == 404


def test_dash_identity_members_from_one_assignment_call(admin_client: Any,
                                                        conn: mock.MagicMock) -> None:
    ks = keystone(conn)
    ks.role_assignments.return_value = [
        assignment("u-alice", "alice", "member", "p-2", "other"),
        assignment("u-alice", "alice", "reader", "p-2", "other"),
        assignment(ME, "demo", "admin", "p-2", "other"),
        assignment("g-1", "ops", "member", "p-2", "other", group=True)]
    body = admin_client.get("/admin/projects/p-2/members/").content.decode()
    ks.role_assignments.assert_called_once_with(scope_project_id="p-2", include_names=True)
    assert rows(body, "members") == ["u-alice", ME]          # by name
    alice = row(body, "u-alice")
    assert "member, reader" in alice
    assert 'action="/admin/projects/p-2/members/u-alice/remove/r-member/"' in alice
    assert 'action="/admin/projects/p-2/members/u-alice/remove/r-reader/"' in alice
    assert "Remove admin" not in alice and "Remove admin" in row(body, ME)
    ks.users.assert_not_called()


def test_dash_identity_own_roles_on_current_project_stay(admin_client: Any,
                                                          conn: mock.MagicMock) -> None:
    ks = keystone(conn)
    ks.role_assignments.return_value = [assignment(ME, "demo", "admin")]
    body = admin_client.get("/admin/projects/%s/members/" % PROJECT_ID).content.decode()
    assert "Remove admin" not in row(body, ME)
    resp = admin_client.post("/admin/projects/%s/members/%s/remove/r-admin/"
                             % (PROJECT_ID, ME), follow=True)
    assert "cannot be removed" in resp.content.decode()
    ks.unassign_project_role_from_user.assert_not_called()


def test_dash_identity_member_add_and_remove(admin_client: Any, conn: mock.MagicMock) -> None:
    ks = keystone(conn)
    page = admin_client.get("/admin/projects/p-2/members/add/").content.decode()
    assert '<option value="r-member" selected>member</option>' in page
    resp = admin_client.post("/admin/projects/p-2/members/add/", {"user": "", "role": "r-member"})
    assert resp.status_code == 400
    ks.assign_project_role_to_user.assert_not_called()
    resp = admin_client.post("/admin/projects/p-2/members/add/",
                             {"user": "u-alice", "role": "r-reader"}, follow=True)
    ks.assign_project_role_to_user.assert_called_once_with("p-2", "u-alice", "r-reader")
    assert "alice now has the role reader on other" in resp.content.decode()
    resp = admin_client.post("/admin/projects/p-2/members/u-alice/remove/r-reader/")
    assert resp.status_code == 302 and resp["Location"] == "/admin/projects/p-2/members/"
    ks.unassign_project_role_from_user.assert_called_once_with("p-2", "u-alice", "r-reader")


# -- quotas ------------------------------------------------------------------

def _quotas(conn: mock.MagicMock) -> None:
    keystone(conn)
    conn.compute.get_quota_set.return_value = types.SimpleNamespace(
        instances=10, cores=20, ram=51200, key_pairs=100, server_groups=10)
    conn.block_storage.get_quota_set.return_value = types.SimpleNamespace(
        volumes=10, gigabytes=1000, snapshots=10, backups=10)
    conn.network.get_quota.return_value = types.SimpleNamespace(
        networks=100, subnets=100, ports=500, routers=10, floating_ips=50, security_groups=10,
        security_group_rules=100)


FORM = {"instances": "10", "cores": "20", "ram": "51200", "key_pairs": "100",
        "server_groups": "10", "volumes": "10", "gigabytes": "1000", "snapshots": "10",
        "backups": "10", "networks": "100", "subnets": "100", "ports": "500", "routers": "10",
        "floating_ips": "50", "security_groups": "10", "security_group_rules": "100"}


def test_dash_quotas_project_form_is_prefilled(admin_client: Any, conn: mock.MagicMock) -> None:
    _quotas(conn)
    body = admin_client.get("/admin/projects/p-2/quotas/").content.decode()
    for key in ("compute", "block-storage", "network"):
        assert 'id="section-%s"' % key in body
    assert 'name="instances" value="10"' in body and 'name="floating_ips" value="50"' in body
    conn.compute.get_quota_set.assert_called_once_with("p-2")
    conn.block_storage.get_quota_set.assert_called_once_with("p-2")
    conn.network.get_quota.assert_called_once_with("p-2")


@pytest.mark.parametrize("bad", ["-2", "abc", "1.5", ""])
def test_dash_quotas_project_values_validated_first(admin_client: Any, conn: mock.MagicMock,
                                                    bad: str) -> None:
    _quotas(conn)
    resp = admin_client.post("/admin/projects/p-2/quotas/", dict(FORM, instances=bad,
                                                                 routers="3"))
    assert resp.status_code == 400
    conn.compute.update_quota_set.assert_not_called()
    conn.network.update_quota.assert_not_called()


def test_dash_quotas_project_update_per_service(admin_client: Any, conn: mock.MagicMock) -> None:
    _quotas(conn)
    resp = admin_client.post("/admin/projects/p-2/quotas/",
                             dict(FORM, instances="3", ram="-1", floating_ips="0"))
    assert resp.status_code == 302 and resp["Location"] == "/admin/projects/"
    conn.compute.update_quota_set.assert_called_once_with("p-2", instances=3, ram=-1)
    conn.network.update_quota.assert_called_once_with("p-2", floating_ips=0)
    conn.block_storage.update_quota_set.assert_not_called()       # nothing changed there


def test_dash_quotas_project_refusal_shown_in_its_section(admin_client: Any,
                                                          conn: mock.MagicMock) -> None:
    _quotas(conn)
    conn.block_storage.update_quota_set.side_effect = http_error(400, "Quota limit invalid")
    resp = admin_client.post("/admin/projects/p-2/quotas/",
                             dict(FORM, instances="3", volumes="2"))
    assert resp.status_code == 400
    body = resp.content.decode()
    assert 'id="error-block-storage"' in body and "Quota limit invalid (HTTP 400)" in body
    assert "Compute quotas updated." in body             # the other service's change stays
    conn.compute.update_quota_set.assert_called_once_with("p-2", instances=3)


def test_dash_quotas_project_only_services_in_catalog(django_app: None,
                                                      conn: mock.MagicMock) -> None:
    _quotas(conn)
    client = conftest._client(conftest.token_state(roles=("admin",),
                                                   services=("compute", "identity")))
    body = client.get("/admin/projects/p-2/quotas/").content.decode()
    assert 'id="section-compute"' in body and 'id="section-network"' not in body
    assert 'name="volumes"' not in body
    conn.network.get_quota.assert_not_called()
    resp = client.post("/admin/projects/p-2/quotas/", {k: v for k, v in FORM.items()
                                                       if k in ("instances", "cores", "ram",
                                                                "key_pairs", "server_groups")})
    assert resp.status_code == 302


def test_dash_quotas_project_unreadable_service_is_said(admin_client: Any,
                                                        conn: mock.MagicMock) -> None:
    _quotas(conn)
    conn.network.get_quota.side_effect = http_error(503, "network is down")
    body = admin_client.get("/admin/projects/p-2/quotas/").content.decode()
    assert "Network: the limits cannot be read: network is down (HTTP 503)" in body
    assert 'name="networks"' not in body and 'name="instances"' in body
