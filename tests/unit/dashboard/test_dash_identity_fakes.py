"""Fake Keystone resources for the identity panel tests (no tests here)."""
from __future__ import annotations

import types
from typing import Any
from unittest import mock

from tests.unit.dashboard.conftest import PROJECT_ID

ME = "u-demo"                      # the user of conftest's tokens
ROLE_IDS = {"admin": "r-admin", "member": "r-member", "reader": "r-reader"}


def project(pid: str, name: str, enabled: bool = True, description: str = "") -> Any:
    return types.SimpleNamespace(id=pid, name=name, description=description,
                                 domain_id="default", is_enabled=enabled, parent_id="default",
                                 tags=[])


def user(uid: str, name: str, project_id: str | None = None, enabled: bool = True,
         email: str | None = None) -> Any:
    return types.SimpleNamespace(id=uid, name=name, email=email, domain_id="default",
                                 default_project_id=project_id, is_enabled=enabled,
                                 description=None, password_expires_at=None)


def role(name: str, rid: str | None = None) -> Any:
    return types.SimpleNamespace(id=rid or ROLE_IDS.get(name, "r-" + name), name=name,
                                 domain_id=None)


def assignment(user_id: str | None, user_name: str, role_name: str,
               project_id: str | None = PROJECT_ID, project_name: str = "demo",
               group: bool = False) -> Any:
    who = {"id": user_id, "name": user_name, "domain": {"id": "default", "name": "Default"}}
    scope = ({"project": {"id": project_id, "name": project_name}} if project_id
             else {"domain": {"id": "default", "name": "Default"}})
    return types.SimpleNamespace(user=None if group else who, group=who if group else None,
                                 role={"id": ROLE_IDS.get(role_name, "r-" + role_name),
                                       "name": role_name}, scope=scope)


def keystone(conn: mock.MagicMock) -> mock.MagicMock:
    """``conn.identity`` with a small cloud: projects demo (the token's), other,
    users demo (me) and alice, the built-in roles and one custom role."""
    ks = conn.identity
    ks.domains.return_value = [types.SimpleNamespace(id="default", name="Default")]
    ks.projects.return_value = [project(PROJECT_ID, "demo"), project("p-2", "other")]
    ks.users.return_value = [user(ME, "demo", PROJECT_ID), user("u-alice", "alice", "p-2",
                                                               email="a@example.com")]
    ks.roles.return_value = [role("admin"), role("member"), role("reader"),
                             role("auditor", "r-auditor")]
    ks.get_project.side_effect = lambda pid: next(
        p for p in ks.projects.return_value if p.id == pid)
    ks.get_user.side_effect = lambda uid: next(u for u in ks.users.return_value if u.id == uid)
    ks.get_role.side_effect = lambda rid: next(r for r in ks.roles.return_value if r.id == rid)
    ks.get_domain.return_value = types.SimpleNamespace(id="default", name="Default")
    return ks


def rows(body: str, table: str) -> list[str]:
    """The row ids of table ``table`` in a page."""
    import re

    part = body.split('id="%s"' % table, 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr id="row-([^"]+)"', part)


def row(body: str, row_id: str) -> str:
    return body.split('<tr id="row-%s"' % row_id, 1)[1].split("</tr>", 1)[0]
