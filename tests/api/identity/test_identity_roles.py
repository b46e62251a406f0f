"""/v3/roles (global and domain-specific) and implied roles."""
from __future__ import annotations

from typing import Any

from identity_api_helpers import USER_PASSWORD, Api, error_of, password_auth, project_scope, \
    unique


def _ids(items: list[dict[str, Any]]) -> set[str]:
    return {i["id"] for i in items}


def test_global_role_crud(api: Api) -> None:
    resp = api.post("/v3/roles", {"role": {"name": unique("role"), "description": "d"}})
    role = resp.json["role"]
    assert role["domain_id"] is None and role["description"] == "d"
    assert role["links"]["self"].endswith("/v3/roles/" + role["id"])
    assert api.get("/v3/roles/" + role["id"]).json["role"] == role
    assert role["id"] in _ids(api.get("/v3/roles").json["roles"])
    by_name = api.get("/v3/roles?name=" + role["name"]).json["roles"]
    assert [r["id"] for r in by_name] == [role["id"]]
    new_name = unique("role2")
    assert api.patch("/v3/roles/" + role["id"],
                     {"role": {"name": new_name}}).json["role"]["name"] == new_name
    api.delete("/v3/roles/" + role["id"])
    error_of(api.get("/v3/roles/" + role["id"], status="*"), 404)
    error_of(api.delete("/v3/roles/" + role["id"], status="*"), 404)


def test_bootstrap_roles_listed(api: Api) -> None:
    names = {r["name"] for r in api.get("/v3/roles").json["roles"]}
    assert {"admin", "member", "reader"} <= names


def test_duplicate_global_role_name_conflicts(api: Api) -> None:
    role = api.create_role()
    error_of(api.post("/v3/roles", {"role": {"name": role["name"]}}, status="*"), 409)
    error_of(api.post("/v3/roles", {"role": {"name": "admin"}}, status="*"), 409)
    other = api.create_role()
    error_of(api.patch("/v3/roles/" + other["id"], {"role": {"name": role["name"]}},
                       status="*"), 409)


def test_domain_specific_roles(api: Api) -> None:
    dom1, dom2 = api.create_domain(), api.create_domain()
    name = unique("shared")
    in_one = api.create_role(name=name, domain_id=dom1["id"])
    in_two = api.create_role(name=name, domain_id=dom2["id"])
    global_role = api.create_role(name=name)
    assert in_one["domain_id"] == dom1["id"] and in_two["domain_id"] == dom2["id"]
    assert global_role["domain_id"] is None
    assert len({in_one["id"], in_two["id"], global_role["id"]}) == 3
    error_of(api.post("/v3/roles", {"role": {"name": name, "domain_id": dom1["id"]}},
                      status="*"), 409)
    # the plain list shows global roles only; ?domain_id= shows that domain's roles
    plain = _ids(api.get("/v3/roles").json["roles"])
    assert global_role["id"] in plain
    assert in_one["id"] not in plain and in_two["id"] not in plain
    assert _ids(api.get("/v3/roles?domain_id=" + dom1["id"]).json["roles"]) == {in_one["id"]}
    assert api.get("/v3/roles/" + in_two["id"]).json["role"]["domain_id"] == dom2["id"]


def test_domain_specific_role_in_unknown_domain(api: Api) -> None:
    resp = api.post("/v3/roles", {"role": {"name": unique("r"), "domain_id": "f" * 32}},
                    status="*")
    assert resp.status_int in (400, 404), resp.text
    error_of(resp, resp.status_int)


def test_role_domain_id_cannot_change(api: Api) -> None:
    domain = api.create_domain()
    role = api.create_role()
    error_of(api.patch("/v3/roles/" + role["id"], {"role": {"domain_id": domain["id"]}},
                       status="*"), 400)


def test_deleting_a_role_removes_it_from_tokens(api: Api, project: dict[str, Any]) -> None:
    role = api.create_role()
    user = api.create_user()
    api.grant(user["id"], role["id"], project_id=project["id"])
    token = api.token_for(user["id"], USER_PASSWORD, project_scope(project["id"]))
    assert [r["id"] for r in api.validate(token).json["token"]["roles"]] == [role["id"]]
    api.delete("/v3/roles/" + role["id"])
    # the token's only role is gone, so the project-scoped token no longer validates
    error_of(api.validate(token, status="*"), 404)


# -- implied roles ----------------------------------------------------------------------------

def test_implied_role_lifecycle(api: Api) -> None:
    prior, implied = api.create_role(), api.create_role()
    path = "/v3/roles/%s/implies/%s" % (prior["id"], implied["id"])
    created = api.put(path, status=201).json
    assert created["role_inference"]["prior_role"]["id"] == prior["id"]
    assert created["role_inference"]["prior_role"]["name"] == prior["name"]
    assert created["role_inference"]["implies"]["id"] == implied["id"]
    assert created["role_inference"]["implies"]["links"]["self"].endswith(
        "/v3/roles/" + implied["id"])
    assert created["links"]["self"].endswith(path)
    shown = api.get(path).json
    assert shown["role_inference"] == created["role_inference"]
    api.head(path, status=204)
    listed = api.get("/v3/roles/%s/implies" % prior["id"]).json["role_inference"]
    assert listed["prior_role"]["id"] == prior["id"]
    assert [r["id"] for r in listed["implies"]] == [implied["id"]]
    api.delete(path)
    error_of(api.get(path, status="*"), 404)
    error_of(api.head(path, status="*"), 404)
    error_of(api.delete(path, status="*"), 404)
    assert api.get("/v3/roles/%s/implies" % prior["id"]).json["role_inference"][
        "implies"] == []


def test_role_inferences(api: Api) -> None:
    prior, first, second = api.create_role(), api.create_role(), api.create_role()
    api.put("/v3/roles/%s/implies/%s" % (prior["id"], first["id"]), status=201)
    api.put("/v3/roles/%s/implies/%s" % (prior["id"], second["id"]), status=201)
    inferences = api.get("/v3/role_inferences").json["role_inferences"]
    by_prior = {i["prior_role"]["id"]: {r["id"] for r in i["implies"]} for i in inferences}
    assert by_prior[prior["id"]] == {first["id"], second["id"]}
    # the bootstrap chain admin => member => reader
    assert api.roles["member"] in by_prior[api.roles["admin"]]
    assert api.roles["reader"] in by_prior[api.roles["member"]]


def test_implied_role_loops_are_refused(api: Api) -> None:
    a, b, c = api.create_role(), api.create_role(), api.create_role()
    api.put("/v3/roles/%s/implies/%s" % (a["id"], b["id"]), status=201)
    api.put("/v3/roles/%s/implies/%s" % (b["id"], c["id"]), status=201)
    error_of(api.put("/v3/roles/%s/implies/%s" % (c["id"], a["id"]), status="*"), 403)
    error_of(api.put("/v3/roles/%s/implies/%s" % (a["id"], a["id"]), status="*"), 403)
    assert api.get("/v3/roles/%s/implies" % c["id"]).json["role_inference"]["implies"] == []


def test_global_role_cannot_imply_domain_role(api: Api) -> None:
    domain = api.create_domain()
    global_role = api.create_role()
    domain_role = api.create_role(domain_id=domain["id"])
    error_of(api.put("/v3/roles/%s/implies/%s" % (global_role["id"], domain_role["id"]),
                     status="*"), 403)
    api.put("/v3/roles/%s/implies/%s" % (domain_role["id"], global_role["id"]), status=201)


def test_implied_role_with_unknown_role(api: Api) -> None:
    role = api.create_role()
    error_of(api.put("/v3/roles/%s/implies/%s" % (role["id"], "f" * 32), status="*"), 404)
    error_of(api.get("/v3/roles/%s/implies" % ("f" * 32), status="*"), 404)


def test_implied_roles_are_in_tokens(api: Api, project: dict[str, Any]) -> None:
    prior, implied, deeper = api.create_role(), api.create_role(), api.create_role()
    api.put("/v3/roles/%s/implies/%s" % (prior["id"], implied["id"]), status=201)
    api.put("/v3/roles/%s/implies/%s" % (implied["id"], deeper["id"]), status=201)
    user = api.create_user()
    api.grant(user["id"], prior["id"], project_id=project["id"])
    _, token = api.issue(password_auth(USER_PASSWORD, user_id=user["id"],
                                       scope=project_scope(project["id"])))
    assert {r["id"] for r in token["roles"]} == {prior["id"], implied["id"], deeper["id"]}


def test_admin_cannot_be_implied(api: Api) -> None:
    role = api.create_role()
    error_of(api.put("/v3/roles/%s/implies/%s" % (role["id"], api.roles["admin"]),
                     status="*"), 403)


def test_domain_specific_role_is_effective_only_through_what_it_implies(
        api: Api, project: dict[str, Any]) -> None:
    domain_role = api.create_role(domain_id="default")
    api.put("/v3/roles/%s/implies/%s" % (domain_role["id"], api.roles["reader"]), status=201)
    user = api.create_user()
    api.grant(user["id"], domain_role["id"], project_id=project["id"])
    _, token = api.issue(password_auth(USER_PASSWORD, user_id=user["id"],
                                       scope=project_scope(project["id"])))
    assert [r["name"] for r in token["roles"]] == ["reader"]
    raw = api.get("/v3/role_assignments?user.id=" + user["id"]).json["role_assignments"]
    assert [a["role"]["id"] for a in raw] == [domain_role["id"]]
    effective = api.get("/v3/role_assignments?effective&user.id=" + user["id"]).json
    assert [a["role"]["id"] for a in effective["role_assignments"]] == [api.roles["reader"]]
