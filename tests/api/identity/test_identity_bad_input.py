"""Bad requests: malformed bodies, bad credentials, disabled entities, missing
authorization, conflicts, limits, and the promise that nothing answers 500."""
from __future__ import annotations

import io
import json
from typing import Any
from urllib import parse

import pytest
import webob
from identity_api_helpers import (DEFAULT_DOMAIN, TOKENS, USER_PASSWORD, Api, Persona,
                                  domain_scope, error_of, password_auth, project_scope,
                                  unique)

JSON = "application/json"
SIZE_LIMIT = 114688


def _raw(api: Api, method: str, path: str, body: bytes | str,
         token: str | None = None) -> Any:
    headers = {"X-Auth-Token": api.admin_token if token is None else token}
    return api.app.request(path, method=method, body=body if isinstance(body, bytes)
                           else body.encode(), headers=headers, content_type=JSON,
                           status="*")


# -- malformed bodies, wrong types, missing fields ------------------------------------------

@pytest.mark.parametrize("path", ["/v3/projects", "/v3/users", "/v3/domains", "/v3/roles",
                                  TOKENS])
def test_malformed_json(api: Api, path: str) -> None:
    for body in ('{"project": {"name": ', "{'a': 1}", "not json", '{"a": 1}}'):
        error_of(_raw(api, "POST", path, body), 400)


def test_empty_body(api: Api) -> None:
    error_of(_raw(api, "POST", "/v3/projects", b""), 400)


@pytest.mark.parametrize("path,key,body", [
    ("/v3/projects", "project", {"name": unique("p"), "enabled": "True"}),
    ("/v3/users", "user", {"name": unique("u"), "enabled": "True"}),
    ("/v3/domains", "domain", {"name": unique("d"), "enabled": "True"}),
    ("/v3/projects", "project", {"name": 42}),
    ("/v3/users", "user", {"name": unique("u"), "password": 1234}),
    ("/v3/roles", "role", {"name": ["admin"]}),
    ("/v3/projects", "project", {"name": unique("p"), "tags": "a,b"}),
])
def test_wrong_types(api: Api, path: str, key: str, body: dict[str, Any]) -> None:
    err = error_of(api.post(path, {key: body}, status="*"), 400)
    assert err["title"] == "Bad Request"


def test_endpoint_enabled_must_be_a_boolean(api: Api) -> None:
    service = api.post("/v3/services", {"service": {"type": unique("t")}}).json["service"]
    body = {"endpoint": {"service_id": service["id"], "interface": "public",
                         "url": "http://x", "enabled": "True"}}
    error_of(api.post("/v3/endpoints", body, status="*"), 400)


@pytest.mark.parametrize("path,body", [
    ("/v3/projects", {"project": {"description": "no name"}}),
    ("/v3/users", {"user": {"password": "no name"}}),
    ("/v3/domains", {"domain": {}}),
    ("/v3/roles", {"role": {"description": "x"}}),
    ("/v3/groups", {"group": {}}),
    ("/v3/services", {"service": {"name": "no type"}}),
    ("/v3/endpoints", {"endpoint": {"interface": "public", "url": "http://x"}}),
    ("/v3/credentials", {"credential": {"type": "cert", "blob": "x"}}),
    ("/v3/projects", {"name": "not wrapped"}),
    (TOKENS, {"auth": {}}),
    (TOKENS, {"auth": {"identity": {}}}),
])
def test_missing_required_fields(api: Api, path: str, body: dict[str, Any]) -> None:
    error_of(api.post(path, body, status="*"), 400)


def test_unsupported_auth_method(api: Api) -> None:
    api.auth_fails({"auth": {"identity": {"methods": ["kerberos-ish"]}}}, 401)


# -- bad credentials --------------------------------------------------------------------------

def test_unknown_user(api: Api) -> None:
    api.auth_fails(password_auth("x", user_id="0" * 32), 401)
    api.auth_fails(password_auth("x", name=unique("ghost"), domain_id=DEFAULT_DOMAIN), 401)
    api.auth_fails(password_auth("x", name="admin", domain_name=unique("nodomain")), 401)


def test_wrong_password(api: Api) -> None:
    user = api.create_user()
    err = api.auth_fails(password_auth("wrong", user_id=user["id"]), 401)
    assert err["title"] == "Unauthorized"
    api.auth_fails(password_auth("", user_id=user["id"]), 401)


def test_user_without_password_cannot_authenticate(api: Api) -> None:
    user = api.create_user(password=None)
    api.auth_fails(password_auth("anything", user_id=user["id"]), 401)


def test_disabled_user(api: Api, project: dict[str, Any]) -> None:
    user = api.create_user()
    api.grant(user["id"], "member", project_id=project["id"])
    token = api.token_for(user["id"], USER_PASSWORD, project_scope(project["id"]))
    api.patch("/v3/users/" + user["id"], {"user": {"enabled": False}})
    api.auth_fails(password_auth(USER_PASSWORD, user_id=user["id"]), 401)
    error_of(api.validate(token, status="*"), 404)
    error_of(api.get("/v3/auth/projects", token=token, status="*"), 401)
    # enabling again lets the user in, but the old token stays revoked
    api.patch("/v3/users/" + user["id"], {"user": {"enabled": True}})
    api.token_for(user["id"], USER_PASSWORD)
    error_of(api.validate(token, status="*"), 404)


def test_disabled_project(api: Api) -> None:
    project = api.create_project()
    user = api.create_user()
    api.grant(user["id"], "member", project_id=project["id"])
    token = api.token_for(user["id"], USER_PASSWORD, project_scope(project["id"]))
    api.patch("/v3/projects/" + project["id"], {"project": {"enabled": False}})
    api.auth_fails(password_auth(USER_PASSWORD, user_id=user["id"],
                                 scope=project_scope(project["id"])), 401)
    error_of(api.validate(token, status="*"), 404)
    unscoped = api.token_for(user["id"], USER_PASSWORD)
    assert api.get("/v3/auth/projects", token=unscoped).json["projects"] == []


def test_disabled_domain(api: Api) -> None:
    domain = api.create_domain()
    user = api.create_user(domain_id=domain["id"])
    project = api.create_project(domain_id=domain["id"])
    api.grant(user["id"], "member", project_id=project["id"])
    api.grant(user["id"], "member", domain_id=domain["id"])
    project_token = api.token_for(user["id"], USER_PASSWORD, project_scope(project["id"]))
    domain_token = api.token_for(user["id"], USER_PASSWORD, domain_scope(domain["id"]))
    api.patch("/v3/domains/" + domain["id"], {"domain": {"enabled": False}})
    api.auth_fails(password_auth(USER_PASSWORD, user_id=user["id"]), 401)
    api.auth_fails(password_auth(USER_PASSWORD, name=user["name"], domain_id=domain["id"]), 401)
    error_of(api.validate(project_token, status="*"), 404)
    error_of(api.validate(domain_token, status="*"), 404)
    # nor can anyone else scope to the disabled domain
    api.auth_fails(password_auth("secret", name="admin", domain_id=DEFAULT_DOMAIN,
                                 scope=domain_scope(domain["id"])), 401)


# -- tokens that do not authenticate --------------------------------------------------------

@pytest.mark.parametrize("token", ["garbled", "gAAAAAB" + "x" * 120, "a" * 5000, "t\xf6ken"])
def test_garbled_auth_token_is_401(api: Api, token: str) -> None:
    error_of(api.get("/v3/users", token=token, status="*"), 401)
    error_of(api.get("/v3/auth/projects", token=token, status="*"), 401)


@pytest.mark.parametrize("subject", ["garbled", "gAAAAAB" + "x" * 120, "a" * 5000])
def test_garbled_subject_token_is_404(api: Api, subject: str) -> None:
    error_of(api.validate(subject, status="*"), 404)
    error_of(api.delete(TOKENS, headers={"X-Subject-Token": subject}, status="*"), 404)


@pytest.mark.parametrize("method,path", [
    ("GET", "/v3/users"), ("GET", "/v3/projects"), ("GET", "/v3/domains"),
    ("GET", "/v3/roles"), ("GET", "/v3/role_assignments"), ("GET", "/v3/services"),
    ("GET", "/v3/endpoints"), ("GET", "/v3/credentials"), ("POST", "/v3/projects"),
    ("POST", "/v3/users"), ("DELETE", "/v3/projects/whatever"),
])
def test_no_token_is_401(api: Api, method: str, path: str) -> None:
    body = b'{"project": {"name": "x"}}' if method == "POST" else b""
    error_of(_raw(api, method, path, body, token=""), 401)


@pytest.mark.parametrize("method,path,body", [
    ("POST", "/v3/users", {"user": {"name": "intruder"}}),
    ("POST", "/v3/projects", {"project": {"name": "intruder"}}),
    ("POST", "/v3/roles", {"role": {"name": "intruder"}}),
    ("POST", "/v3/domains", {"domain": {"name": "intruder"}}),
    ("GET", "/v3/users", None),
    ("GET", "/v3/projects", None),
])
def test_member_calling_admin_apis_is_403(api: Api, member: Persona, method: str, path: str,
                                          body: dict[str, Any] | None) -> None:
    raw = json.dumps(body).encode() if body is not None else b""
    err = error_of(_raw(api, method, path, raw, token=member.token), 403)
    assert err["title"] == "Forbidden"


# -- conflicts and missing entities ---------------------------------------------------------

def test_duplicate_project_name_in_a_domain(api: Api) -> None:
    name = unique("dup")
    api.create_project(name=name)
    error_of(api.post("/v3/projects", {"project": {"name": name}}, status="*"), 409)
    other = api.create_domain()
    assert api.create_project(name=name, domain_id=other["id"])["name"] == name


def test_duplicate_names(api: Api) -> None:
    user = api.create_user()
    error_of(api.post("/v3/users", {"user": {"name": user["name"]}}, status="*"), 409)
    domain = api.create_domain()
    error_of(api.post("/v3/domains", {"domain": {"name": domain["name"]}}, status="*"), 409)
    group = api.create_group()
    error_of(api.post("/v3/groups", {"group": {"name": group["name"]}}, status="*"), 409)


def test_renaming_onto_an_existing_name_conflicts(api: Api) -> None:
    first, second = api.create_project(), api.create_project()
    error_of(api.patch("/v3/projects/" + second["id"],
                       {"project": {"name": first["name"]}}, status="*"), 409)


@pytest.mark.parametrize("path", ["/v3/projects/", "/v3/users/", "/v3/roles/", "/v3/domains/",
                                  "/v3/groups/", "/v3/regions/", "/v3/services/",
                                  "/v3/endpoints/", "/v3/credentials/"])
def test_delete_nonexistent_is_404(api: Api, path: str) -> None:
    error_of(api.delete(path + "f" * 32, status="*"), 404)
    error_of(api.get(path + "f" * 32, status="*"), 404)


# -- size limit ------------------------------------------------------------------------------

def test_body_over_the_size_limit_is_413(api: Api) -> None:
    body = json.dumps({"project": {"name": "big", "description": "x" * SIZE_LIMIT}})
    assert len(body) > SIZE_LIMIT
    err = error_of(_raw(api, "POST", "/v3/projects", body), 413)
    assert err["title"] == "Request Entity Too Large"
    error_of(api.app.post(TOKENS, body, content_type=JSON, status="*"), 413)


def _chunked(api: Api, body: bytes) -> webob.Response:
    """POST /v3/projects with a body of unknown length, as a chunked upload arrives."""
    req = webob.Request.blank("/v3/projects", method="POST",
                              headers={"X-Auth-Token": api.admin_token,
                                       "Content-Type": JSON,
                                       "Transfer-Encoding": "chunked"})
    req.environ.pop("CONTENT_LENGTH", None)
    req.environ["wsgi.input"] = io.BytesIO(body)
    req.environ["wsgi.input_terminated"] = True  # what cheroot sets for chunked bodies
    return req.get_response(api.app.app)


def test_streamed_body_over_the_size_limit_is_413(api: Api) -> None:
    big = json.dumps({"project": {"name": "big", "description": "x" * SIZE_LIMIT}}).encode()
    resp = _chunked(api, big)
    assert resp.status_int == 413
    assert resp.json["error"]["code"] == 413
    resp = _chunked(api, json.dumps({"project": {"name": unique("chunked")}}).encode())
    assert resp.status_int == 201, resp.text


def test_body_just_under_the_limit_is_read(api: Api) -> None:
    filler = "x" * (SIZE_LIMIT - 200)
    resp = api.post("/v3/projects", {"project": {"name": unique("fat"),
                                                 "description": filler}})
    assert len(resp.json["project"]["description"]) == len(filler)


# -- never a 500 -------------------------------------------------------------------------------

WEIRD_BODIES: list[Any] = [[], "x", 1, 1.5, None, True, {}, "ü", {"a": [1, {"b": None}]}]
CREATE_PATHS = {"project": "/v3/projects", "user": "/v3/users", "domain": "/v3/domains",
                "role": "/v3/roles", "group": "/v3/groups", "region": "/v3/regions",
                "service": "/v3/services", "endpoint": "/v3/endpoints",
                "credential": "/v3/credentials", "auth": TOKENS}


def test_weird_bodies_never_give_500(api: Api) -> None:
    project = api.create_project()
    user = api.create_user()
    targets = list(CREATE_PATHS.items()) + [("project", "/v3/projects/" + project["id"]),
                                            ("user", "/v3/users/" + user["id"])]
    seen = []
    for key, path in targets:
        method = "PATCH" if path.count("/") > 2 else "POST"
        for weird in WEIRD_BODIES + [{key: w} for w in WEIRD_BODIES]:
            resp = _raw(api, method, path, json.dumps(weird))
            seen.append((method, path, weird, resp.status_int))
            assert resp.status_int < 500, (method, path, weird, resp.text)
            if resp.status_int >= 400:
                error_of(resp, resp.status_int)
    for weird in WEIRD_BODIES:
        resp = api.put("/v3/projects/%s/tags" % project["id"], weird, status="*")
        assert resp.status_int == 400, (weird, resp.text)
    assert len(seen) > 200


def test_unicode_names_round_trip(api: Api) -> None:
    name = "プロジェクト-ü-\U0001f600-" + unique("u")
    project = api.create_project(name=name)
    assert project["name"] == name
    assert api.get("/v3/projects/" + project["id"]).json["project"]["name"] == name
    listed = api.get("/v3/projects?name=" + parse.quote(name)).json["projects"]
    assert [p["id"] for p in listed] == [project["id"]]
    user = api.create_user(name="usér-" + unique("u"), password="pässwörd-\u2603")
    api.issue(password_auth("pässwörd-\u2603", name=user["name"], domain_id=DEFAULT_DOMAIN))


@pytest.mark.parametrize("path,key,field,limit", [
    ("/v3/users", "user", "name", 255),
    ("/v3/roles", "role", "name", 255),
    ("/v3/projects", "project", "name", 64),
    ("/v3/domains", "domain", "name", 64),
    ("/v3/groups", "group", "name", 64),
    ("/v3/services", "service", "type", 255),
    ("/v3/regions", "region", "id", 255),
])
def test_overlong_names_are_400(api: Api, path: str, key: str, field: str, limit: int) -> None:
    error_of(api.post(path, {key: {field: "n" * (limit + 1)}}, status="*"), 400)
    error_of(api.post(path, {key: {field: "n" * 300}}, status="*"), 400)


def test_weird_paths_and_queries_never_give_500(api: Api) -> None:
    for path in ("/v3/projects/%00", "/v3/projects/" + "x" * 3000, "/v3/users/%C3%BC",
                 "/v3/projects?enabled=maybe", "/v3/projects?name=%00",
                 "/v3/role_assignments?scope.system=all&include_names",
                 "/v3/role_assignments?effective&include_names", "/v3/nonsense", "/v4",
                 "/v3/users?domain_id=" + "d" * 3000):
        resp = api.get(path, status="*")
        assert resp.status_int < 500, (path, resp.text)
    error_of(api.get("/v3/nonsense", status="*"), 404)
    error_of(api.app.request("/v3/projects", method="PROPFIND",
                             headers={"X-Auth-Token": api.admin_token}, status="*"), 405)
    error_of(api.app.post("/v3/projects", "<project/>", content_type="application/xml",
                          headers={"X-Auth-Token": api.admin_token}, status="*"), 415)
    error_of(_raw(api, "POST", "/v3/projects", b'{"project": {"name": "\xff"}}'), 400)


# Auth bodies whose nested values have the wrong type: Keystone's auth schema
# rejects them with 400.
_BAD_AUTH = {
    "password is a number": {"user": {"id": "USER", "password": 123}},
    "password is a list": {"user": {"id": "USER", "password": ["secret"]}},
    "user domain is a string": {"user": {"name": "admin", "domain": "default",
                                         "password": "secret"}},
    "user name is a list": {"user": {"name": ["admin"], "domain": {"id": DEFAULT_DOMAIN},
                                     "password": "secret"}},
    "user id is an object": {"user": {"id": {"a": 1}, "password": "secret"}},
    "user domain id is an object": {"user": {"name": "admin", "domain": {"id": {"a": 1}},
                                             "password": "secret"}},
}
_BAD_SCOPE = {
    "project scope is a string": {"project": "admin"},
    "project scope id is an object": {"project": {"id": {"a": 1}}},
    "domain scope is a string": {"domain": DEFAULT_DOMAIN},
}
_BAD_APP_CRED = {
    "app cred id is an object": {"id": {"a": 1}, "secret": "x"},
    "app cred name is a list": {"name": ["a"], "secret": "x", "user": {"id": "USER"}},
    "app cred user is a string": {"name": "a", "secret": "x", "user": "admin"},
}


def _bad_auth_body(case: str, user_id: str) -> dict[str, Any]:
    def fill(value: Any) -> Any:
        return json.loads(json.dumps(value).replace('"USER"', json.dumps(user_id)))
    if case in _BAD_AUTH:
        return {"auth": {"identity": {"methods": ["password"],
                                      "password": fill(_BAD_AUTH[case])}}}
    if case in _BAD_SCOPE:
        body = password_auth("secret", user_id=user_id)
        body["auth"]["scope"] = _BAD_SCOPE[case]
        return body
    return {"auth": {"identity": {"methods": ["application_credential"],
                                  "application_credential": fill(_BAD_APP_CRED[case])}}}


@pytest.mark.parametrize("case", [
    *_BAD_AUTH, *_BAD_SCOPE])
def test_auth_body_with_wrong_nested_types_is_400(api: Api, case: str) -> None:
    resp = api.app.post_json(TOKENS, _bad_auth_body(case, api.admin_user_id), status="*")
    assert resp.status_int == 400, resp.text


@pytest.mark.parametrize("case", [
    *_BAD_APP_CRED])
def test_app_cred_auth_with_wrong_nested_types_is_a_client_error(api: Api, case: str) -> None:
    resp = api.app.post_json(TOKENS, _bad_auth_body(case, api.admin_user_id), status="*")
    assert 400 <= resp.status_int < 500, resp.text


def test_auth_user_id_as_a_list_is_400(api: Api) -> None:
    body = password_auth("secret")
    body["auth"]["identity"]["password"]["user"]["id"] = [api.admin_user_id]
    api.auth_fails(body, 400)


def test_auth_system_scope_as_a_string_is_400(api: Api) -> None:
    body = password_auth("secret", user_id=api.admin_user_id, scope={"system": "all"})
    api.auth_fails(body, 400)


def test_401_names_where_to_authenticate(api: Api) -> None:
    resp = api.app.get("/v3/users", status=401)
    assert resp.headers["WWW-Authenticate"].startswith('Keystone uri="http')
