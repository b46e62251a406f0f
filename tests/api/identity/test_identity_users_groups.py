"""CRUD and filters of /v3/users, /v3/groups (membership) and /v3/credentials."""
from __future__ import annotations

from typing import Any

from identity_api_helpers import (DEFAULT_DOMAIN, USER_PASSWORD, Api, Persona, error_of,
                                  password_auth, project_scope, unique)


def _ids(items: list[dict[str, Any]]) -> set[str]:
    return {i["id"] for i in items}


# -- users ------------------------------------------------------------------------------------

def test_user_create_with_password_and_default_project(api: Api,
                                                       project: dict[str, Any]) -> None:
    resp = api.post("/v3/users", {"user": {"name": unique("u"), "password": "pw-1",
                                           "default_project_id": project["id"],
                                           "email": "u@example.org"}})
    user = resp.json["user"]
    assert "password" not in user
    assert user["default_project_id"] == project["id"]
    assert user["domain_id"] == DEFAULT_DOMAIN
    assert user["enabled"] is True
    assert user["email"] == "u@example.org"
    assert user["password_expires_at"] is None
    assert user["links"]["self"].endswith("/v3/users/" + user["id"])
    assert api.get("/v3/users/" + user["id"]).json["user"] == user
    # without a role on it, the default project does not scope the token
    _, token = api.issue(password_auth("pw-1", user_id=user["id"]))
    assert "project" not in token
    api.grant(user["id"], "member", project_id=project["id"])
    _, token = api.issue(password_auth("pw-1", user_id=user["id"]))
    assert token["project"]["id"] == project["id"]


def test_user_default_domain(api: Api) -> None:
    user = api.post("/v3/users", {"user": {"name": unique("u")}}).json["user"]
    assert user["domain_id"] == DEFAULT_DOMAIN


def test_user_filters(api: Api) -> None:
    domain = api.create_domain()
    on = api.create_user(domain_id=domain["id"])
    off = api.create_user(domain_id=domain["id"], enabled=False)
    assert _ids(api.get("/v3/users?domain_id=" + domain["id"]).json["users"]) == \
        {on["id"], off["id"]}
    by_name = api.get("/v3/users?name=" + on["name"]).json["users"]
    assert [u["id"] for u in by_name] == [on["id"]]
    disabled = _ids(api.get("/v3/users?enabled=false").json["users"])
    assert off["id"] in disabled and on["id"] not in disabled
    enabled = _ids(api.get("/v3/users?domain_id=%s&enabled=true" % domain["id"]).json["users"])
    assert enabled == {on["id"]}
    assert api.admin_user_id in _ids(api.get("/v3/users").json["users"])


def test_user_update(api: Api) -> None:
    user = api.create_user()
    new_name = unique("renamed")
    updated = api.patch("/v3/users/" + user["id"], {"user": {"name": new_name,
                                                             "description": "d"}}
                        ).json["user"]
    assert updated["name"] == new_name and updated["description"] == "d"
    assert api.get("/v3/users/" + user["id"]).json["user"]["name"] == new_name
    api.issue(password_auth(USER_PASSWORD, name=new_name, domain_id=DEFAULT_DOMAIN))


def test_user_update_password_by_admin_revokes_tokens(api: Api) -> None:
    user = api.create_user()
    token = api.token_for(user["id"], USER_PASSWORD)
    api.patch("/v3/users/" + user["id"], {"user": {"password": "pw-admin-set"}})
    error_of(api.validate(token, status="*"), 404)
    api.auth_fails(password_auth(USER_PASSWORD, user_id=user["id"]), 401)
    api.token_for(user["id"], "pw-admin-set")


def test_user_update_domain_refused(api: Api) -> None:
    user = api.create_user()
    other = api.create_domain()
    error_of(api.patch("/v3/users/" + user["id"], {"user": {"domain_id": other["id"]}},
                       status="*"), 400)


def test_change_own_password(api: Api, project: dict[str, Any]) -> None:
    user = api.create_user()
    api.grant(user["id"], "member", project_id=project["id"])
    old_token = api.token_for(user["id"], USER_PASSWORD, project_scope(project["id"]))
    body = {"user": {"original_password": USER_PASSWORD, "password": "pw-new-1"}}
    api.post("/v3/users/%s/password" % user["id"], body, token=old_token, status=204)
    error_of(api.validate(old_token, status="*"), 404)
    error_of(api.get("/v3/auth/projects", token=old_token, status="*"), 401)
    api.auth_fails(password_auth(USER_PASSWORD, user_id=user["id"]), 401)
    new_token = api.token_for(user["id"], "pw-new-1", project_scope(project["id"]))
    api.validate(new_token)


def test_change_password_needs_no_token(api: Api) -> None:
    """The original password is the proof, so an expired password can be changed."""
    user = api.create_user()
    body = {"user": {"original_password": USER_PASSWORD, "password": "pw-new-3"}}
    api.post("/v3/users/%s/password" % user["id"], body, token="", status=204)
    api.token_for(user["id"], "pw-new-3")
    error_of(api.post("/v3/users/%s/password" % user["id"], body, token="", status="*"), 401)


def test_change_password_with_wrong_original(api: Api) -> None:
    user = api.create_user()
    token = api.token_for(user["id"], USER_PASSWORD)
    body = {"user": {"original_password": "wrong", "password": "pw-new-2"}}
    error_of(api.post("/v3/users/%s/password" % user["id"], body, token=token, status="*"),
             401)
    api.token_for(user["id"], USER_PASSWORD)
    error_of(api.post("/v3/users/%s/password" % user["id"], {"user": {"password": "x"}},
                      token=token, status="*"), 400)


def test_list_user_projects(api: Api, member: Persona, project: dict[str, Any]) -> None:
    extra = api.create_project()
    api.grant(member.user_id, "reader", project_id=extra["id"])
    found = api.get("/v3/users/%s/projects" % member.user_id).json["projects"]
    assert _ids(found) == {project["id"], extra["id"]}
    assert all(p["domain_id"] == DEFAULT_DOMAIN for p in found)
    api.delete("/v3/projects/%s/users/%s/roles/%s" % (extra["id"], member.user_id,
                                                      api.roles["reader"]))
    found = api.get("/v3/users/%s/projects" % member.user_id).json["projects"]
    assert _ids(found) == {project["id"]}


def test_list_user_groups(api: Api) -> None:
    user = api.create_user()
    first, second = api.create_group(), api.create_group()
    assert api.get("/v3/users/%s/groups" % user["id"]).json["groups"] == []
    for group in (first, second):
        api.put("/v3/groups/%s/users/%s" % (group["id"], user["id"]))
    groups = api.get("/v3/users/%s/groups" % user["id"]).json["groups"]
    assert _ids(groups) == {first["id"], second["id"]}


def test_user_delete(api: Api) -> None:
    user = api.create_user()
    token = api.token_for(user["id"], USER_PASSWORD)
    api.delete("/v3/users/" + user["id"])
    error_of(api.get("/v3/users/" + user["id"], status="*"), 404)
    error_of(api.validate(token, status="*"), 404)
    api.auth_fails(password_auth(USER_PASSWORD, user_id=user["id"]), 401)


# -- groups -----------------------------------------------------------------------------------

def test_group_crud(api: Api) -> None:
    resp = api.post("/v3/groups", {"group": {"name": unique("g"), "description": "d"}})
    group = resp.json["group"]
    assert group["domain_id"] == DEFAULT_DOMAIN and group["description"] == "d"
    assert group["links"]["self"].endswith("/v3/groups/" + group["id"])
    assert api.get("/v3/groups/" + group["id"]).json["group"] == group
    assert group["id"] in _ids(api.get("/v3/groups").json["groups"])
    by_name = api.get("/v3/groups?name=" + group["name"]).json["groups"]
    assert [g["id"] for g in by_name] == [group["id"]]
    new_name = unique("g2")
    updated = api.patch("/v3/groups/" + group["id"], {"group": {"name": new_name}}).json
    assert updated["group"]["name"] == new_name
    api.delete("/v3/groups/" + group["id"])
    error_of(api.get("/v3/groups/" + group["id"], status="*"), 404)


def test_group_filter_by_domain(api: Api) -> None:
    domain = api.create_domain()
    group = api.create_group(domain_id=domain["id"])
    api.create_group()
    found = api.get("/v3/groups?domain_id=" + domain["id"]).json["groups"]
    assert [g["id"] for g in found] == [group["id"]]


def test_group_membership(api: Api) -> None:
    group = api.create_group()
    alice, bob = api.create_user(), api.create_user()
    member_path = "/v3/groups/%s/users/%s" % (group["id"], alice["id"])
    error_of(api.head(member_path, status="*"), 404)
    api.put(member_path, status=204)
    api.put(member_path, status=204)  # idempotent
    api.head(member_path, status=204)
    api.get(member_path, status=204)
    members = api.get("/v3/groups/%s/users" % group["id"]).json["users"]
    assert _ids(members) == {alice["id"]}
    api.put("/v3/groups/%s/users/%s" % (group["id"], bob["id"]))
    assert _ids(api.get("/v3/groups/%s/users" % group["id"]).json["users"]) == \
        {alice["id"], bob["id"]}
    api.delete(member_path)
    error_of(api.head(member_path, status="*"), 404)
    error_of(api.delete(member_path, status="*"), 404)
    assert _ids(api.get("/v3/groups/%s/users" % group["id"]).json["users"]) == {bob["id"]}


def test_group_membership_unknown_parts(api: Api) -> None:
    group = api.create_group()
    error_of(api.put("/v3/groups/%s/users/%s" % (group["id"], "f" * 32), status="*"), 404)
    user = api.create_user()
    error_of(api.put("/v3/groups/%s/users/%s" % ("f" * 32, user["id"]), status="*"), 404)
    error_of(api.get("/v3/groups/%s/users" % ("f" * 32), status="*"), 404)


# -- credentials ------------------------------------------------------------------------------

def _credential(api: Api, user_id: str, token: str | None = None, status: Any = 201,
                **extra: Any) -> Any:
    body = {"credential": {"type": "cert", "blob": "blob-" + unique(), "user_id": user_id,
                           **extra}}
    return api.post("/v3/credentials", body, token=token, status=status)


def test_credential_crud(api: Api, project: dict[str, Any]) -> None:
    user = api.create_user()
    cred = _credential(api, user["id"], project_id=project["id"]).json["credential"]
    assert cred["user_id"] == user["id"] and cred["project_id"] == project["id"]
    assert cred["type"] == "cert" and cred["blob"].startswith("blob-")
    assert cred["links"]["self"].endswith("/v3/credentials/" + cred["id"])
    assert api.get("/v3/credentials/" + cred["id"]).json["credential"] == cred
    updated = api.patch("/v3/credentials/" + cred["id"],
                        {"credential": {"blob": "rotated"}}).json["credential"]
    assert updated["blob"] == "rotated"
    by_user = api.get("/v3/credentials?user_id=" + user["id"]).json["credentials"]
    assert [c["id"] for c in by_user] == [cred["id"]]
    by_type = _ids(api.get("/v3/credentials?type=cert").json["credentials"])
    assert cred["id"] in by_type
    assert api.get("/v3/credentials?type=nope").json["credentials"] == []
    api.delete("/v3/credentials/" + cred["id"])
    error_of(api.get("/v3/credentials/" + cred["id"], status="*"), 404)


def test_credential_for_unknown_user(api: Api) -> None:
    resp = _credential(api, "f" * 32, status="*")
    assert resp.status_int in (400, 404), resp.text


def test_member_sees_only_own_credentials(api: Api, member: Persona,
                                          other_member: Persona) -> None:
    mine = _credential(api, member.user_id, token=member.token).json["credential"]
    theirs = _credential(api, other_member.user_id).json["credential"]
    listed = _ids(api.get("/v3/credentials", token=member.token).json["credentials"])
    assert mine["id"] in listed and theirs["id"] not in listed
    assert listed <= {c["id"] for c in api.get(
        "/v3/credentials?user_id=" + member.user_id).json["credentials"]}
    api.get("/v3/credentials/" + mine["id"], token=member.token)
    error_of(api.get("/v3/credentials/" + theirs["id"], token=member.token, status="*"), 403)
    error_of(api.patch("/v3/credentials/" + theirs["id"], {"credential": {"blob": "x"}},
                       token=member.token, status="*"), 403)
    error_of(api.delete("/v3/credentials/" + theirs["id"], token=member.token, status="*"),
             403)
    error_of(_credential(api, other_member.user_id, token=member.token, status="*"), 403)
    api.delete("/v3/credentials/" + mine["id"], token=member.token)


def test_head_mirrors_get(api: Api) -> None:
    user = api.create_user()
    for path in ("/v3/users", "/v3/users/" + user["id"], "/v3/groups", "/v3/projects"):
        resp = api.head(path, status=200)
        assert resp.body == b""
        assert resp.content_type == "application/json"
    error_of(api.head("/v3/users/" + "f" * 32, status="*"), 404)
