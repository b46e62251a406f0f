"""Application credentials: the auth method and /v3/users/{id}/application_credentials."""
from __future__ import annotations

from typing import Any

import pytest
from identity_api_helpers import (DEFAULT_DOMAIN, USER_PASSWORD, Api, Persona, error_of,
                                  password_auth, project_scope, unique)


@pytest.fixture(scope="module")
def owner(api: Api, project: dict[str, Any]) -> dict[str, Any]:
    """A member of ``project`` and a token of it scoped there."""
    user = api.create_user(name=unique("appowner"))
    api.grant(user["id"], "member", project_id=project["id"])
    user["token"] = api.token_for(user["id"], USER_PASSWORD, project_scope(project["id"]))
    return user


def _create(api: Api, owner: dict[str, Any], status: Any = 201,
            **values: Any) -> dict[str, Any]:
    body = {"application_credential": {"name": unique("app"), **values}}
    resp = api.post("/v3/users/%s/application_credentials" % owner["id"], body,
                    token=owner["token"], status=status)
    return dict(resp.json["application_credential"]) if status == 201 else dict(resp.json)


def _auth_body(**app: Any) -> dict[str, Any]:
    return {"auth": {"identity": {"methods": ["application_credential"],
                                  "application_credential": app}}}


def test_create_shows_secret_once(api: Api, owner: dict[str, Any],
                                  project: dict[str, Any]) -> None:
    app = _create(api, owner, description="ci")
    assert app["secret"]
    assert app["user_id"] == owner["id"]
    assert app["project_id"] == project["id"]
    assert app["unrestricted"] is False
    assert app["description"] == "ci"
    assert {r["name"] for r in app["roles"]} == {"member", "reader"}
    shown = api.get("/v3/users/%s/application_credentials/%s" % (owner["id"], app["id"]),
                    token=owner["token"]).json["application_credential"]
    assert "secret" not in shown
    assert shown["id"] == app["id"] and shown["name"] == app["name"]


def test_auth_by_id_and_secret(api: Api, owner: dict[str, Any],
                               project: dict[str, Any]) -> None:
    app = _create(api, owner)
    subject, token = api.issue(_auth_body(id=app["id"], secret=app["secret"]))
    assert token["methods"] == ["application_credential"]
    assert token["project"]["id"] == project["id"]
    assert token["user"]["id"] == owner["id"]
    assert token["application_credential"] == {"id": app["id"], "name": app["name"],
                                               "restricted": True}
    assert {r["name"] for r in token["roles"]} == {"member", "reader"}
    assert api.validate(subject).json["token"]["application_credential"]["id"] == app["id"]


def test_auth_by_name_and_user(api: Api, owner: dict[str, Any]) -> None:
    app = _create(api, owner)
    _, by_user_id = api.issue(_auth_body(name=app["name"], secret=app["secret"],
                                         user={"id": owner["id"]}))
    assert by_user_id["application_credential"]["id"] == app["id"]
    _, by_user_name = api.issue(_auth_body(
        name=app["name"], secret=app["secret"],
        user={"name": owner["name"], "domain": {"id": DEFAULT_DOMAIN}}))
    assert by_user_name["application_credential"]["id"] == app["id"]


def test_restricted_roles_subset(api: Api, owner: dict[str, Any]) -> None:
    app = _create(api, owner, roles=[{"name": "reader"}])
    assert [r["name"] for r in app["roles"]] == ["reader"]
    _, token = api.issue(_auth_body(id=app["id"], secret=app["secret"]))
    assert [r["name"] for r in token["roles"]] == ["reader"]


def test_cannot_delegate_a_role_not_held(api: Api, owner: dict[str, Any]) -> None:
    path = "/v3/users/%s/application_credentials" % owner["id"]
    body = {"application_credential": {"name": unique("app"), "roles": [{"name": "admin"}]}}
    resp = api.post(path, body, token=owner["token"], status="*")
    assert 400 <= resp.status_int < 500, resp.text
    error_of(resp, resp.status_int)
    names = {a["name"] for a in api.get(path, token=owner["token"]).json[
        "application_credentials"]}
    assert body["application_credential"]["name"] not in names


def test_role_not_held_is_a_bad_request(api: Api, owner: dict[str, Any]) -> None:
    body = _create(api, owner, status="*", roles=[{"name": "admin"}])
    assert body["error"]["code"] == 400


def test_wrong_secret(api: Api, owner: dict[str, Any]) -> None:
    app = _create(api, owner)
    api.auth_fails(_auth_body(id=app["id"], secret="wrong"), 401)
    api.auth_fails(_auth_body(id=app["id"]), 401)
    api.auth_fails(_auth_body(id="0" * 32, secret=app["secret"]), 401)


def test_delete_invalidates_tokens(api: Api, owner: dict[str, Any]) -> None:
    app = _create(api, owner)
    subject, _ = api.issue(_auth_body(id=app["id"], secret=app["secret"]))
    api.validate(subject)
    api.delete("/v3/users/%s/application_credentials/%s" % (owner["id"], app["id"]),
               token=owner["token"])
    error_of(api.validate(subject, status="*"), 404)
    error_of(api.get("/v3/auth/projects", token=subject, status="*"), 401)
    api.auth_fails(_auth_body(id=app["id"], secret=app["secret"]), 401)
    error_of(api.get("/v3/users/%s/application_credentials/%s" % (owner["id"], app["id"]),
                     token=owner["token"], status="*"), 404)


def test_list_and_filter_by_name(api: Api, owner: dict[str, Any]) -> None:
    first = _create(api, owner)
    second = _create(api, owner)
    path = "/v3/users/%s/application_credentials" % owner["id"]
    listed = api.get(path, token=owner["token"]).json["application_credentials"]
    ids = {a["id"] for a in listed}
    assert {first["id"], second["id"]} <= ids
    assert all("secret" not in a for a in listed)
    named = api.get(path + "?name=" + first["name"], token=owner["token"]).json
    assert [a["id"] for a in named["application_credentials"]] == [first["id"]]


def test_duplicate_name_conflicts(api: Api, owner: dict[str, Any]) -> None:
    app = _create(api, owner)
    body = _create(api, owner, status=409, name=app["name"])
    assert body["error"]["code"] == 409


def test_expires_at_in_the_past_is_refused(api: Api, owner: dict[str, Any]) -> None:
    body = _create(api, owner, status=400, expires_at="2001-01-01T00:00:00Z")
    assert body["error"]["code"] == 400


def test_app_cred_token_cannot_create_another(api: Api, owner: dict[str, Any]) -> None:
    app = _create(api, owner, unrestricted=False)
    subject, _ = api.issue(_auth_body(id=app["id"], secret=app["secret"]))
    resp = api.post("/v3/users/%s/application_credentials" % owner["id"],
                    {"application_credential": {"name": unique("nested")}},
                    token=subject, status="*")
    error_of(resp, 403)


def test_other_users_cannot_see_or_delete(api: Api, owner: dict[str, Any],
                                          other_member: Persona) -> None:
    app = _create(api, owner)
    path = "/v3/users/%s/application_credentials" % owner["id"]
    error_of(api.get(path, token=other_member.token, status="*"), 403)
    error_of(api.get(path + "/" + app["id"], token=other_member.token, status="*"), 403)
    error_of(api.delete(path + "/" + app["id"], token=other_member.token, status="*"), 403)
    # nor create one on someone else's behalf
    error_of(api.post(path, {"application_credential": {"name": unique("x")}},
                      token=other_member.token, status="*"), 403)


def test_unscoped_token_cannot_create(api: Api, owner: dict[str, Any]) -> None:
    unscoped = api.token_for(owner["id"], USER_PASSWORD)
    resp = api.post("/v3/users/%s/application_credentials" % owner["id"],
                    {"application_credential": {"name": unique("x")}}, token=unscoped,
                    status="*")
    assert 400 <= resp.status_int < 500, resp.text
    error_of(resp, resp.status_int)


def test_app_cred_auth_with_scope_is_unauthorized(api: Api, owner: dict[str, Any],
                                                  project: dict[str, Any]) -> None:
    app = _create(api, owner)
    body = _auth_body(id=app["id"], secret=app["secret"])
    body["auth"]["scope"] = project_scope(project["id"])
    api.auth_fails(body, 401)


def test_app_cred_secret_is_not_a_password(api: Api, owner: dict[str, Any]) -> None:
    app = _create(api, owner)
    api.auth_fails(password_auth(app["secret"], user_id=owner["id"]), 401)


def test_access_rules(api: Api, owner: dict[str, Any]) -> None:
    rule = {"service": "compute", "path": "/v2.1/servers", "method": "GET"}
    app = _create(api, owner, access_rules=[rule])
    assert len(app["access_rules"]) == 1
    stored = app["access_rules"][0]
    assert {k: stored[k] for k in rule} == rule and stored["id"]
    again = _create(api, owner, access_rules=[rule])
    assert again["access_rules"][0]["id"] == stored["id"]  # one rule, reused
    path = "/v3/users/%s/access_rules" % owner["id"]
    listed = api.get(path, token=owner["token"]).json["access_rules"]
    assert stored["id"] in {r["id"] for r in listed}
    shown = api.get(path + "/" + stored["id"], token=owner["token"]).json["access_rule"]
    assert {k: shown[k] for k in rule} == rule
    _, token = api.issue(_auth_body(id=app["id"], secret=app["secret"]))
    assert [r["id"] for r in token["application_credential"]["access_rules"]] == \
        [stored["id"]]
    error_of(api.get(path + "/" + "f" * 32, token=owner["token"], status="*"), 404)
