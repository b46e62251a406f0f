"""The issue's user story, with the real ``openstack`` CLI against a real daemon."""
from __future__ import annotations

import json

from tests.functional.conftest import IdentityCloud, unique


def _json(cloud: IdentityCloud, *args: str, env: dict[str, str] | None = None) -> object:
    return json.loads(cloud.openstack(*args, "-f", "json", env=env).stdout)


def test_admin_story_and_member_visibility(identity_cloud: IdentityCloud) -> None:
    cloud = identity_cloud
    token = _json(cloud, "token", "issue")
    assert token["id"] and token["project_id"] and token["user_id"]

    p1, u1 = unique("p1"), unique("u1")
    project = _json(cloud, "project", "create", p1)
    assert project["name"] == p1 and project["domain_id"] == "default"
    user = _json(cloud, "user", "create", "--project", p1, "--password", "pw", u1)
    assert user["name"] == u1 and user["default_project_id"] == project["id"]
    cloud.openstack("role", "add", "--project", p1, "--user", u1, "member")

    catalog = _json(cloud, "catalog", "list")
    assert [c["Type"] for c in catalog] == ["identity"]
    endpoints = _json(cloud, "endpoint", "list")
    assert {e["Interface"] for e in endpoints} == {"public", "internal", "admin"}
    assignments = _json(cloud, "role", "assignment", "list", "--names")
    assert {"Role": "member", "User": u1 + "@Default", "Group": "", "Project": p1 + "@Default",
            "Domain": "", "System": "", "Inherited": False} in assignments

    member = cloud.env(user=u1, password="pw", project=p1)
    member_token = _json(cloud, "token", "issue", env=member)
    assert member_token["project_id"] == project["id"]
    # u1 sees its own project only, and may not list users.
    projects = _json(cloud, "project", "list", "--my-projects", env=member)
    assert [p["Name"] for p in projects] == [p1]
    denied = cloud.openstack("user", "list", env=member, check=False)
    assert denied.returncode != 0 and "403" in denied.stderr

    # Revoking u1's token makes it fail.
    cloud.openstack("token", "revoke", member_token["id"])
    token_env = {k: v for k, v in member.items() if k not in ("OS_USERNAME", "OS_PASSWORD",
                                                               "OS_USER_DOMAIN_NAME")}
    token_env.update(OS_AUTH_TYPE="token", OS_TOKEN=member_token["id"])
    failed = cloud.openstack("project", "show", project["id"], env=token_env, check=False)
    assert failed.returncode != 0 and "401" in failed.stderr


def test_wrong_password_is_401(identity_cloud: IdentityCloud) -> None:
    result = identity_cloud.openstack("token", "issue",
                                      env=identity_cloud.env(password="wrong"), check=False)
    assert result.returncode != 0 and "401" in result.stderr
