"""Grants (users and groups on projects, domains, the system; OS-INHERIT) and
GET /v3/role_assignments with its filters, effective mode and include_names."""
from __future__ import annotations

from typing import Any

import pytest
from identity_api_helpers import (USER_PASSWORD, Api, domain_scope, error_of, password_auth,
                                  project_scope, unique)

RA = "/v3/role_assignments"


def _role_ids(api: Api, path: str) -> set[str]:
    return {r["id"] for r in api.get(path).json["roles"]}


def _token_roles(api: Api, user_id: str, scope: dict[str, Any]) -> set[str]:
    _, token = api.issue(password_auth(USER_PASSWORD, user_id=user_id, scope=scope))
    return {r["name"] for r in token["roles"]}


def _triples(assignments: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """(actor id, scope description, role id) of each assignment."""
    out = set()
    for a in assignments:
        actor = (a["user"] if "user" in a else a["group"])["id"]
        scope = a["scope"]
        where = ("system" if "system" in scope else
                 "project:" + scope["project"]["id"] if "project" in scope else
                 "domain:" + scope["domain"]["id"])
        out.add((actor, where, a["role"]["id"]))
    return out


@pytest.mark.parametrize("target", ["projects", "domains"])
def test_user_grant_lifecycle(api: Api, target: str) -> None:
    user = api.create_user()
    target_id = (api.create_project() if target == "projects" else api.create_domain())["id"]
    role_id = api.roles["reader"]
    base = "/v3/%s/%s/users/%s/roles" % (target, target_id, user["id"])
    assert api.get(base).json["roles"] == []
    error_of(api.head("%s/%s" % (base, role_id), status="*"), 404)
    api.put("%s/%s" % (base, role_id), status=204)
    api.put("%s/%s" % (base, role_id), status=204)  # idempotent
    api.head("%s/%s" % (base, role_id), status=204)
    api.get("%s/%s" % (base, role_id), status=204)
    listed = api.get(base).json["roles"]
    assert [r["id"] for r in listed] == [role_id] and listed[0]["name"] == "reader"
    scope = project_scope(target_id) if target == "projects" else domain_scope(target_id)
    assert _token_roles(api, user["id"], scope) == {"reader"}
    api.delete("%s/%s" % (base, role_id))
    error_of(api.head("%s/%s" % (base, role_id), status="*"), 404)
    error_of(api.delete("%s/%s" % (base, role_id), status="*"), 404)
    api.auth_fails(password_auth(USER_PASSWORD, user_id=user["id"], scope=scope), 401)


@pytest.mark.parametrize("target", ["projects", "domains"])
def test_group_grant_gives_members_the_role(api: Api, target: str) -> None:
    user, group = api.create_user(), api.create_group()
    api.put("/v3/groups/%s/users/%s" % (group["id"], user["id"]))
    target_id = (api.create_project() if target == "projects" else api.create_domain())["id"]
    base = "/v3/%s/%s/groups/%s/roles" % (target, target_id, group["id"])
    api.put("%s/%s" % (base, api.roles["member"]))
    api.head("%s/%s" % (base, api.roles["member"]), status=204)
    assert _role_ids(api, base) == {api.roles["member"]}
    scope = project_scope(target_id) if target == "projects" else domain_scope(target_id)
    assert _token_roles(api, user["id"], scope) == {"member", "reader"}
    token = api.token_for(user["id"], USER_PASSWORD, scope)
    # leaving the group takes the role away from existing tokens too
    api.delete("/v3/groups/%s/users/%s" % (group["id"], user["id"]))
    error_of(api.validate(token, status="*"), 404)
    api.auth_fails(password_auth(USER_PASSWORD, user_id=user["id"], scope=scope), 401)


def test_system_grants(api: Api) -> None:
    user, group = api.create_user(), api.create_group()
    reader = api.roles["reader"]
    base = "/v3/system/users/%s/roles" % user["id"]
    assert api.get(base).json["roles"] == []
    api.put("%s/%s" % (base, reader))
    api.head("%s/%s" % (base, reader), status=204)
    assert _role_ids(api, base) == {reader}
    assert _token_roles(api, user["id"], {"system": {"all": True}}) == {"reader"}
    api.delete("%s/%s" % (base, reader))
    error_of(api.head("%s/%s" % (base, reader), status="*"), 404)
    group_base = "/v3/system/groups/%s/roles" % group["id"]
    api.put("%s/%s" % (group_base, reader))
    assert _role_ids(api, group_base) == {reader}
    api.put("/v3/groups/%s/users/%s" % (group["id"], user["id"]))
    assert _token_roles(api, user["id"], {"system": {"all": True}}) == {"reader"}


def test_grant_unknown_parts_is_404(api: Api) -> None:
    user, project = api.create_user(), api.create_project()
    role = api.roles["reader"]
    for path in ("/v3/projects/%s/users/%s/roles/%s" % (project["id"], user["id"], "f" * 32),
                 "/v3/projects/%s/users/%s/roles/%s" % (project["id"], "f" * 32, role),
                 "/v3/projects/%s/users/%s/roles/%s" % ("f" * 32, user["id"], role),
                 "/v3/domains/%s/users/%s/roles/%s" % ("f" * 32, user["id"], role),
                 "/v3/projects/%s/groups/%s/roles/%s" % (project["id"], "f" * 32, role)):
        error_of(api.put(path, status="*"), 404)


def test_inherited_domain_grant(api: Api) -> None:
    domain = api.create_domain()
    first = api.create_project(domain_id=domain["id"])
    user = api.create_user()
    role = api.roles["member"]
    base = "/v3/OS-INHERIT/domains/%s/users/%s/roles" % (domain["id"], user["id"])
    api.put("%s/%s/inherited_to_projects" % (base, role))
    api.head("%s/%s/inherited_to_projects" % (base, role), status=204)
    assert _role_ids(api, base + "/inherited_to_projects") == {role}
    # not a role on the domain itself
    assert api.get("/v3/domains/%s/users/%s/roles" % (domain["id"], user["id"])
                   ).json["roles"] == []
    api.auth_fails(password_auth(USER_PASSWORD, user_id=user["id"],
                                 scope=domain_scope(domain["id"])), 401)
    # but on every project of the domain, present and future
    later = api.create_project(domain_id=domain["id"])
    for project in (first, later):
        assert _token_roles(api, user["id"], project_scope(project["id"])) == \
            {"member", "reader"}
    unscoped = api.token_for(user["id"], USER_PASSWORD)
    listed = {p["id"] for p in api.get("/v3/auth/projects", token=unscoped).json["projects"]}
    assert listed == {first["id"], later["id"]}
    api.delete("%s/%s/inherited_to_projects" % (base, role))
    api.auth_fails(password_auth(USER_PASSWORD, user_id=user["id"],
                                 scope=project_scope(first["id"])), 401)


def test_inherited_group_grant_on_domain(api: Api) -> None:
    domain = api.create_domain()
    project = api.create_project(domain_id=domain["id"])
    user, group = api.create_user(), api.create_group()
    api.put("/v3/groups/%s/users/%s" % (group["id"], user["id"]))
    api.put("/v3/OS-INHERIT/domains/%s/groups/%s/roles/%s/inherited_to_projects"
            % (domain["id"], group["id"], api.roles["reader"]))
    assert _token_roles(api, user["id"], project_scope(project["id"])) == {"reader"}


def test_inherited_project_grant_reaches_subprojects_only(api: Api) -> None:
    parent = api.create_project()
    child = api.create_project(parent_id=parent["id"])
    user = api.create_user()
    api.put("/v3/OS-INHERIT/projects/%s/users/%s/roles/%s/inherited_to_projects"
            % (parent["id"], user["id"], api.roles["reader"]))
    assert _token_roles(api, user["id"], project_scope(child["id"])) == {"reader"}
    api.auth_fails(password_auth(USER_PASSWORD, user_id=user["id"],
                                 scope=project_scope(parent["id"])), 401)


# -- /v3/role_assignments ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def world(api: Api) -> dict[str, Any]:
    """Users, a group, projects in a domain, and assignments of every kind."""
    domain = api.create_domain()
    project = api.create_project(domain_id=domain["id"])
    sibling = api.create_project(domain_id=domain["id"])
    alice, bob = api.create_user(name=unique("alice")), api.create_user(name=unique("bob"))
    group = api.create_group()
    api.put("/v3/groups/%s/users/%s" % (group["id"], bob["id"]))
    r = api.roles
    api.grant(alice["id"], "member", project_id=project["id"])
    api.grant(alice["id"], "reader", domain_id=domain["id"])
    api.grant(alice["id"], "reader", system=True)
    api.grant(group["id"], "reader", project_id=sibling["id"], actor="groups")
    api.put("/v3/OS-INHERIT/domains/%s/users/%s/roles/%s/inherited_to_projects"
            % (domain["id"], bob["id"], r["member"]))
    return {"domain": domain, "project": project, "sibling": sibling, "alice": alice,
            "bob": bob, "group": group}


def test_role_assignments_by_user(api: Api, world: dict[str, Any]) -> None:
    alice, r = world["alice"], api.roles
    body = api.get(RA + "?user.id=" + alice["id"]).json
    assert _triples(body["role_assignments"]) == {
        (alice["id"], "project:" + world["project"]["id"], r["member"]),
        (alice["id"], "domain:" + world["domain"]["id"], r["reader"]),
        (alice["id"], "system", r["reader"])}
    assert body["links"]["self"].endswith(RA + "?user.id=" + alice["id"])
    one = [a for a in body["role_assignments"] if "project" in a["scope"]][0]
    assert one["links"]["assignment"].endswith("/v3/projects/%s/users/%s/roles/%s" % (
        world["project"]["id"], alice["id"], r["member"]))
    system = [a for a in body["role_assignments"] if "system" in a["scope"]][0]
    assert system["scope"]["system"] == {"all": True}


def test_role_assignments_filters(api: Api, world: dict[str, Any]) -> None:
    alice, group, r = world["alice"], world["group"], api.roles
    by_group = api.get(RA + "?group.id=" + group["id"]).json["role_assignments"]
    assert _triples(by_group) == {(group["id"], "project:" + world["sibling"]["id"],
                                   r["reader"])}
    assert "group" in by_group[0] and "user" not in by_group[0]
    by_project = api.get(RA + "?scope.project.id=" + world["project"]["id"]).json
    assert _triples(by_project["role_assignments"]) == {
        (alice["id"], "project:" + world["project"]["id"], r["member"])}
    by_domain = api.get(RA + "?scope.domain.id=" + world["domain"]["id"]).json
    assert _triples(by_domain["role_assignments"]) == {
        (alice["id"], "domain:" + world["domain"]["id"], r["reader"]),
        (world["bob"]["id"], "domain:" + world["domain"]["id"], r["member"])}
    inherited_only = api.get(RA + "?scope.domain.id=%s&scope.OS-INHERIT:inherited_to=projects"
                             % world["domain"]["id"]).json["role_assignments"]
    assert _triples(inherited_only) == {
        (world["bob"]["id"], "domain:" + world["domain"]["id"], r["member"])}
    by_system = api.get(RA + "?scope.system=all&user.id=" + alice["id"]).json
    assert _triples(by_system["role_assignments"]) == {(alice["id"], "system", r["reader"])}
    by_role = api.get(RA + "?role.id=%s&user.id=%s" % (r["reader"], alice["id"])).json
    assert {t[1] for t in _triples(by_role["role_assignments"])} == {
        "system", "domain:" + world["domain"]["id"]}


def test_role_assignments_inherited_raw(api: Api, world: dict[str, Any]) -> None:
    bob = world["bob"]
    rows = api.get(RA + "?user.id=" + bob["id"]).json["role_assignments"]
    assert len(rows) == 1
    assert rows[0]["scope"] == {"domain": {"id": world["domain"]["id"]},
                                "OS-INHERIT:inherited_to": "projects"}
    assert rows[0]["links"]["assignment"].endswith(
        "/v3/OS-INHERIT/domains/%s/users/%s/roles/%s/inherited_to_projects"
        % (world["domain"]["id"], bob["id"], api.roles["member"]))


def test_role_assignments_effective(api: Api, world: dict[str, Any]) -> None:
    bob, group, r = world["bob"], world["group"], api.roles
    rows = api.get(RA + "?effective&user.id=" + bob["id"]).json["role_assignments"]
    assert all("user" in row and "group" not in row for row in rows)
    assert _triples(rows) == {
        # from the group, with the membership link
        (bob["id"], "project:" + world["sibling"]["id"], r["reader"]),
        # the inherited domain grant, expanded onto each project, plus its implied role
        (bob["id"], "project:" + world["project"]["id"], r["member"]),
        (bob["id"], "project:" + world["project"]["id"], r["reader"]),
        (bob["id"], "project:" + world["sibling"]["id"], r["member"])}
    via_group = [row for row in rows if row["scope"]["project"]["id"] == world["sibling"]["id"]
                 and row["role"]["id"] == r["reader"] and "membership" in row["links"]]
    assert via_group
    assert via_group[0]["links"]["membership"].endswith(
        "/v3/groups/%s/users/%s" % (group["id"], bob["id"]))
    assert all("OS-INHERIT:inherited_to" not in row["scope"] for row in rows)


def test_role_assignments_effective_inherited_link(api: Api, world: dict[str, Any]) -> None:
    bob, r = world["bob"], api.roles
    rows = api.get(RA + "?effective&user.id=%s&scope.project.id=%s&role.id=%s"
                   % (bob["id"], world["project"]["id"], r["member"])).json["role_assignments"]
    assert len(rows) == 1
    assert rows[0]["links"]["assignment"].endswith(
        "/v3/OS-INHERIT/domains/%s/users/%s/roles/%s/inherited_to_projects"
        % (world["domain"]["id"], bob["id"], r["member"]))


def test_role_assignments_effective_implied(api: Api, world: dict[str, Any]) -> None:
    alice, r = world["alice"], api.roles
    rows = api.get(RA + "?effective&user.id=%s&scope.project.id=%s"
                   % (alice["id"], world["project"]["id"])).json["role_assignments"]
    assert {row["role"]["id"] for row in rows} == {r["member"], r["reader"]}
    implied = [row for row in rows if row["role"]["id"] == r["reader"]][0]
    assert implied["links"]["prior_role"].endswith("/v3/roles/" + r["member"])


def test_role_assignments_effective_rejects_group_filter(api: Api,
                                                         world: dict[str, Any]) -> None:
    error_of(api.get(RA + "?effective&group.id=" + world["group"]["id"], status="*"), 400)


def test_role_assignments_include_names(api: Api, world: dict[str, Any]) -> None:
    alice = world["alice"]
    rows = api.get(RA + "?include_names&user.id=%s&scope.project.id=%s"
                   % (alice["id"], world["project"]["id"])).json["role_assignments"]
    assert len(rows) == 1
    row = rows[0]
    assert row["role"]["name"] == "member"
    assert row["user"]["name"] == alice["name"]
    assert row["user"]["domain"] == {"id": "default", "name": "Default"}
    assert row["scope"]["project"]["name"] == world["project"]["name"]
    assert row["scope"]["project"]["domain"] == {"id": world["domain"]["id"],
                                                 "name": world["domain"]["name"]}
    domain_rows = api.get(RA + "?include_names&scope.domain.id=" + world["domain"]["id"]
                          ).json["role_assignments"]
    assert domain_rows[0]["scope"]["domain"]["name"] == world["domain"]["name"]


def test_role_assignments_list_everything(api: Api, world: dict[str, Any]) -> None:
    rows = api.get(RA).json["role_assignments"]
    actors = {(row["user"] if "user" in row else row["group"])["id"] for row in rows}
    assert {world["alice"]["id"], world["bob"]["id"], world["group"]["id"],
            api.admin_user_id} <= actors
