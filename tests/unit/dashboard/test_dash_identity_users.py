"""Admin Users and Roles panels: tables, create (then the role on the primary
project), edit, password, enable/disable/delete with self-protection, roles
and role assignments; and the 403 a member gets on every admin page."""
from __future__ import annotations

import types
from typing import Any
from unittest import mock

import pytest

from tests.unit.dashboard.conftest import PROJECT_ID, http_error
from tests.unit.dashboard.test_dash_identity_fakes import (
    ME, assignment, keystone, row, rows)

CREATE = {"name": "dash-u", "email": "", "password": "pw", "confirm": "pw", "domain": "default",
          "project": "p-2", "role": "r-member", "enabled": "on"}


def test_dash_identity_users_table(admin_client: Any, conn: mock.MagicMock) -> None:
    ks = keystone(conn)
    body = admin_client.get("/admin/users/").content.decode()
    assert rows(body, "users") == ["u-alice", ME]
    alice = row(body, "u-alice")
    assert "a@example.com" in alice and 'href="/admin/projects/p-2/"' in alice
    assert ">other<" in alice and '<span class="status ok">enabled</span>' in alice
    assert "/admin/users/u-alice/disable/" in alice and "/admin/users/u-alice/delete/" in alice
    mine = row(body, ME)
    assert "/disable/" not in mine and "/delete/" not in mine and "/password/" in mine
    for call in (ks.users, ks.projects, ks.domains):
        call.assert_called_once_with()


def test_dash_identity_user_create_checks_the_password_first(admin_client: Any,
                                                             conn: mock.MagicMock) -> None:
    ks = keystone(conn)
    resp = admin_client.post("/admin/users/create/", dict(CREATE, confirm="other"))
    assert resp.status_code == 400 and "do not match" in resp.content.decode()
    resp = admin_client.post("/admin/users/create/", dict(CREATE, password="", confirm=""))
    assert resp.status_code == 400
    resp = admin_client.post("/admin/users/create/", dict(CREATE, email="not-an-email"))
    assert resp.status_code == 400
    resp = admin_client.post("/admin/users/create/", dict(CREATE, role=""))
    assert resp.status_code == 400 and "role on its primary project" in resp.content.decode()
    ks.create_user.assert_not_called()


def test_dash_identity_user_create_then_role_on_primary_project(admin_client: Any,
                                                                conn: mock.MagicMock) -> None:
    ks = keystone(conn)
    ks.create_user.return_value = types.SimpleNamespace(id="u-new", name="dash-u")
    page = admin_client.get("/admin/users/create/").content.decode()
    assert '<option value="r-member" selected>member</option>' in page
    resp = admin_client.post("/admin/users/create/", dict(CREATE, email="d@example.com"),
                             follow=True)
    assert "User dash-u created, with the role member on other." in resp.content.decode()
    assert [c for c in ks.mock_calls if c[0] in ("create_user", "assign_project_role_to_user")
            ] == [mock.call.create_user(name="dash-u", password="pw", domain_id="default",
                                        is_enabled=True, email="d@example.com",
                                        default_project_id="p-2"),
                  mock.call.assign_project_role_to_user("p-2", "u-new", "r-member")]


def test_dash_identity_user_create_without_project(admin_client: Any,
                                                   conn: mock.MagicMock) -> None:
    ks = keystone(conn)
    ks.create_user.return_value = types.SimpleNamespace(id="u-new", name="dash-u")
    resp = admin_client.post("/admin/users/create/", dict(CREATE, project="", role=""))
    assert resp.status_code == 302
    ks.create_user.assert_called_once_with(name="dash-u", password="pw", domain_id="default",
                                           is_enabled=True)
    ks.assign_project_role_to_user.assert_not_called()


def test_dash_identity_user_create_role_refused_is_said(admin_client: Any,
                                                        conn: mock.MagicMock) -> None:
    ks = keystone(conn)
    ks.create_user.return_value = types.SimpleNamespace(id="u-new", name="dash-u")
    ks.assign_project_role_to_user.side_effect = http_error(403, "not allowed")
    resp = admin_client.post("/admin/users/create/", CREATE, follow=True)
    body = resp.content.decode()
    assert "User dash-u was created, but the role member on other was refused" in body
    assert "not allowed (HTTP 403)" in body


def test_dash_identity_user_edit(admin_client: Any, conn: mock.MagicMock) -> None:
    ks = keystone(conn)
    page = admin_client.get("/admin/users/u-alice/edit/").content.decode()
    assert 'value="a@example.com"' in page and '<option value="p-2" selected>' in page
    resp = admin_client.post("/admin/users/u-alice/edit/", {
        "name": "alice", "email": "", "project": "", "description": "ops"})
    assert resp.status_code == 302
    ks.update_user.assert_called_once_with("u-alice", name="alice", email=None,
                                           default_project_id=None, description="ops",
                                           is_enabled=False)


def test_dash_identity_user_cannot_disable_or_delete_self(admin_client: Any,
                                                          conn: mock.MagicMock) -> None:
    ks = keystone(conn)
    resp = admin_client.post("/admin/users/%s/edit/" % ME, {"name": "demo", "project": ""})
    assert resp.status_code == 400 and "cannot disable yourself" in resp.content.decode()
    for action in ("disable", "enable", "delete"):
        resp = admin_client.post("/admin/users/%s/%s/" % (ME, action), follow=True)
        assert "You cannot %s yourself." % action in resp.content.decode()
    ks.update_user.assert_not_called()
    ks.delete_user.assert_not_called()


def test_dash_identity_user_enable_disable_delete(admin_client: Any,
                                                  conn: mock.MagicMock) -> None:
    ks = keystone(conn)
    ks.update_user.return_value = types.SimpleNamespace(id="u-alice", name="alice")
    assert admin_client.get("/admin/users/u-alice/disable/").status_code == 405
    resp = admin_client.post("/admin/users/u-alice/disable/", follow=True)
    assert "User alice disabled." in resp.content.decode()
    ks.update_user.assert_called_once_with("u-alice", is_enabled=False)
    admin_client.post("/admin/users/u-alice/enable/")
    ks.update_user.assert_called_with("u-alice", is_enabled=True)
    admin_client.post("/admin/users/u-alice/delete/")
    ks.delete_user.assert_called_once_with("u-alice", ignore_missing=False)


def test_dash_identity_user_password(admin_client: Any, conn: mock.MagicMock) -> None:
    ks = keystone(conn)
    resp = admin_client.post("/admin/users/u-alice/password/",
                             {"password": "a", "confirm": "b"})
    assert resp.status_code == 400 and "do not match" in resp.content.decode()
    resp = admin_client.post("/admin/users/u-alice/password/", {"password": "", "confirm": ""})
    assert resp.status_code == 400
    ks.update_user.assert_not_called()
    resp = admin_client.post("/admin/users/u-alice/password/",
                             {"password": " new pw ", "confirm": " new pw "})
    assert resp.status_code == 302
    ks.update_user.assert_called_once_with("u-alice", password=" new pw ")


def test_dash_identity_user_detail_lists_role_assignments(admin_client: Any,
                                                          conn: mock.MagicMock) -> None:
    ks = keystone(conn)
    ks.role_assignments.return_value = [
        assignment("u-alice", "alice", "member", "p-2", "other"),
        assignment("u-alice", "alice", "reader", None)]
    body = admin_client.get("/admin/users/u-alice/").content.decode()
    ks.role_assignments.assert_called_once_with(user_id="u-alice", include_names=True)
    assert rows(body, "role_assignments") == ["u-alice-default-r-reader", "u-alice-p-2-r-member"]
    assert "project other" in body and "domain Default" in body and "a@example.com" in body


# -- roles -------------------------------------------------------------------

def test_dash_identity_roles_table_and_create(admin_client: Any, conn: mock.MagicMock) -> None:
    ks = keystone(conn)
    body = admin_client.get("/admin/roles/").content.decode()
    assert rows(body, "roles") == ["r-admin", "r-auditor", "r-member", "r-reader"]
    ks.roles.assert_called_once_with()
    resp = admin_client.post("/admin/roles/create/", {"name": "bad name!"})
    assert resp.status_code == 400
    resp = admin_client.post("/admin/roles/create/", {"name": "reader"})
    assert resp.status_code == 400 and "built-in" in resp.content.decode()
    ks.create_role.assert_not_called()
    ks.create_role.return_value = types.SimpleNamespace(id="r-x", name="dash-role")
    resp = admin_client.post("/admin/roles/create/", {"name": "dash-role"})
    assert resp.status_code == 302
    ks.create_role.assert_called_once_with(name="dash-role")


@pytest.mark.parametrize("builtin", ["r-admin", "r-member", "r-reader"])
def test_dash_identity_builtin_roles_are_not_deleted(admin_client: Any, conn: mock.MagicMock,
                                                     builtin: str) -> None:
    ks = keystone(conn)
    resp = admin_client.post("/admin/roles/%s/delete/" % builtin, follow=True)
    assert "is a built-in role: it cannot be deleted" in resp.content.decode()
    ks.delete_role.assert_not_called()


def test_dash_identity_custom_role_delete(admin_client: Any, conn: mock.MagicMock) -> None:
    ks = keystone(conn)
    resp = admin_client.post("/admin/roles/r-auditor/delete/", follow=True)
    assert "Role auditor deleted." in resp.content.decode()
    ks.delete_role.assert_called_once_with("r-auditor", ignore_missing=False)


def test_dash_identity_role_assignments_filter(admin_client: Any, conn: mock.MagicMock) -> None:
    ks = keystone(conn)
    ks.role_assignments.return_value = [
        assignment(ME, "demo", "member"), assignment("g-1", "ops", "reader", group=True)]
    body = admin_client.get("/admin/roles/assignments/").content.decode()
    ks.role_assignments.assert_called_once_with(include_names=True)
    assert "group ops" in body and "project demo" in body
    assert len(rows(body, "role_assignments")) == 2
    ks.role_assignments.reset_mock()
    admin_client.get("/admin/roles/assignments/?project=%s&user=%s" % (PROJECT_ID, ME))
    ks.role_assignments.assert_called_once_with(include_names=True,
                                                scope_project_id=PROJECT_ID, user_id=ME)


# -- members are refused ------------------------------------------------------

ADMIN_PAGES = ["/admin/projects/", "/admin/projects/create/", "/admin/projects/p-2/",
               "/admin/projects/p-2/edit/", "/admin/projects/p-2/members/",
               "/admin/projects/p-2/members/add/", "/admin/projects/p-2/quotas/",
               "/admin/users/", "/admin/users/create/", "/admin/users/u-alice/",
               "/admin/users/u-alice/edit/", "/admin/users/u-alice/password/",
               "/admin/roles/", "/admin/roles/create/", "/admin/roles/assignments/",
               "/admin/quotas/", "/admin/quotas/update/"]
ADMIN_POSTS = ["/admin/projects/p-2/delete/", "/admin/projects/p-2/members/u-a/remove/r-m/",
               "/admin/users/u-alice/disable/", "/admin/users/u-alice/enable/",
               "/admin/users/u-alice/delete/", "/admin/roles/r-x/delete/"]


@pytest.mark.parametrize("path", ADMIN_PAGES + ADMIN_POSTS)
def test_dash_identity_member_gets_403(client: Any, conn: mock.MagicMock, path: str) -> None:
    assert client.get(path).status_code == 403
    assert client.post(path, {"name": "x"}).status_code == 403
    assert not conn.mock_calls
