"""Persona protection: who may call what, per identity/policies/rules.py.

Every row of ``CASES`` is one API call and the expected outcome for each persona,
in ``PERSONAS`` order: ``A`` means allowed (2xx), ``D`` denied (403 with a
Keystone error body). Calls that write act on "victims" created for the test, so
that allowed writes never disturb the shared personas.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import pytest
from identity_api_helpers import Api, Persona, error_of, unique

PERSONAS = ("cloud_admin", "system_reader", "member", "reader", "other_member", "no_roles")


@dataclasses.dataclass(frozen=True)
class Case:
    method: str
    path: str
    expect: str  # one letter per persona: A(llowed) or D(enied)
    body: Callable[[], Any] | None = None

    @property
    def id(self) -> str:
        return "%s %s" % (self.method, self.path)


def _named(key: str, **extra: Any) -> Callable[[], Any]:
    return lambda: {key: {"name": unique(key), **extra}}


CASES = [
    # -- reads of collections: admin and the system reader only
    Case("GET", "/v3/users", "AADDDD"),
    Case("GET", "/v3/projects", "AADDDD"),
    Case("GET", "/v3/domains", "AADDDD"),
    Case("GET", "/v3/roles", "AADDDD"),
    Case("GET", "/v3/groups", "AADDDD"),
    Case("GET", "/v3/services", "AADDDD"),
    Case("GET", "/v3/endpoints", "AADDDD"),
    Case("GET", "/v3/role_assignments", "AADDDD"),
    Case("GET", "/v3/role_assignments?user.id={own_user}", "AADDDD"),
    Case("GET", "/v3/role_inferences", "AADDDD"),
    Case("GET", "/v3/system/users/{own_user}/roles", "AADDDD"),
    Case("GET", "/v3/projects/{project}/users/{own_user}/roles", "AADDDD"),
    # -- reads anyone with a token may do
    Case("GET", "/v3/regions", "AAAAAA"),
    Case("GET", "/v3/users/{own_user}", "AAAAAA"),
    Case("GET", "/v3/users/{own_user}/projects", "AAAAAA"),
    Case("GET", "/v3/users/{own_user}/groups", "AAAAAA"),
    Case("GET", "/v3/auth/projects", "AAAAAA"),
    Case("GET", "/v3/auth/domains", "AAAAAA"),
    Case("GET", "/v3/auth/system", "AAAAAA"),
    Case("GET", "/v3/credentials", "AAAAAA"),
    # -- reads of someone else's things
    Case("GET", "/v3/users/{victim_user}", "AADDDD"),
    Case("GET", "/v3/users/{victim_user}/projects", "AADDDD"),
    Case("GET", "/v3/users/{victim_user}/groups", "AADDDD"),
    Case("GET", "/v3/projects/{project}", "AAAADD"),
    Case("GET", "/v3/projects/{other_project}", "AADDAD"),
    Case("GET", "/v3/projects/{project}/tags", "AAAADD"),
    Case("GET", "/v3/domains/default", "AAAAAD"),
    Case("GET", "/v3/groups/{victim_group}", "AADDDD"),
    Case("GET", "/v3/groups/{victim_group}/users", "AADDDD"),
    Case("GET", "/v3/services/{identity_service}", "AADDDD"),
    Case("GET", "/v3/roles/{member_role}", "AADDDD"),
    Case("GET", "/v3/roles/{member_role}/implies", "AADDDD"),
    Case("GET", "/v3/users/{victim_user}/application_credentials", "ADDDDD"),
    # -- writes: the cloud admin only
    Case("POST", "/v3/users", "ADDDDD", _named("user")),
    Case("POST", "/v3/projects", "ADDDDD", _named("project")),
    Case("POST", "/v3/domains", "ADDDDD", _named("domain")),
    Case("POST", "/v3/roles", "ADDDDD", _named("role")),
    Case("POST", "/v3/groups", "ADDDDD", _named("group")),
    Case("POST", "/v3/services", "ADDDDD", lambda: {"service": {"type": unique("t")}}),
    Case("POST", "/v3/regions", "ADDDDD", lambda: {"region": {"id": unique("R")}}),
    Case("POST", "/v3/endpoints", "ADDDDD",
         lambda: {"endpoint": {"service_id": "{identity_service}", "interface": "public",
                               "url": "http://elsewhere.example"}}),
    Case("PATCH", "/v3/users/{own_user}", "ADDDDD",
         lambda: {"user": {"description": "changed"}}),
    Case("PATCH", "/v3/users/{victim_user}", "ADDDDD",
         lambda: {"user": {"description": "changed"}}),
    Case("DELETE", "/v3/users/{victim_user}", "ADDDDD"),
    Case("PATCH", "/v3/projects/{project}", "ADDDDD",
         lambda: {"project": {"description": "changed"}}),
    Case("PATCH", "/v3/projects/{victim_project}", "ADDDDD",
         lambda: {"project": {"description": "changed"}}),
    Case("DELETE", "/v3/projects/{victim_project}", "ADDDDD"),
    Case("PUT", "/v3/projects/{project}/tags/{tag}", "ADDDDD"),
    Case("PATCH", "/v3/domains/{victim_domain}", "ADDDDD",
         lambda: {"domain": {"description": "changed"}}),
    Case("DELETE", "/v3/domains/{victim_disabled_domain}", "ADDDDD"),
    Case("PATCH", "/v3/roles/{victim_role}", "ADDDDD",
         lambda: {"role": {"description": "changed"}}),
    Case("DELETE", "/v3/roles/{victim_role}", "ADDDDD"),
    Case("PUT", "/v3/roles/{victim_role}/implies/{member_role}", "ADDDDD"),
    Case("DELETE", "/v3/groups/{victim_group}", "ADDDDD"),
    Case("PUT", "/v3/groups/{victim_group}/users/{own_user}", "ADDDDD"),
    Case("PUT", "/v3/projects/{victim_project}/users/{own_user}/roles/{admin_role}",
         "ADDDDD"),
    Case("PUT", "/v3/domains/default/users/{own_user}/roles/{admin_role}", "ADDDDD"),
    Case("PUT", "/v3/system/users/{own_user}/roles/{admin_role}", "ADDDDD"),
    Case("DELETE", "/v3/services/{victim_service}", "ADDDDD"),
]


class _Ids(dict[str, str]):
    """Placeholder values for one call: the persona's own ids, and victims made
    the first time a path asks for them."""

    def __init__(self, api: Api, who: Persona, project: dict[str, Any],
                 other_project: dict[str, Any]) -> None:
        super().__init__(own_user=who.user_id, project=project["id"],
                         other_project=other_project["id"], tag=unique("tag"),
                         admin_role=api.roles["admin"], member_role=api.roles["member"])
        self.api = api

    def __missing__(self, key: str) -> str:
        api = self.api
        makers: dict[str, Callable[[], str]] = {
            "victim_user": lambda: api.create_user(password=None)["id"],
            "victim_project": lambda: api.create_project()["id"],
            "victim_group": lambda: api.create_group()["id"],
            "victim_role": lambda: api.create_role()["id"],
            "victim_domain": lambda: api.create_domain()["id"],
            "victim_disabled_domain": lambda: api.create_domain(enabled=False)["id"],
            "victim_service": lambda: api.post("/v3/services", {"service": {
                "type": unique("t")}}).json["service"]["id"],
            "identity_service": lambda: api.get("/v3/services?type=identity"
                                                ).json["services"][0]["id"],
        }
        self[key] = makers[key]()
        return self[key]


def _fill(value: Any, ids: _Ids) -> Any:
    if isinstance(value, str):
        return value.format_map(ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.fixture(scope="module")
def personas(cloud_admin: Persona, system_reader: Persona, member: Persona, reader: Persona,
             other_member: Persona, no_roles: Persona) -> dict[str, Persona]:
    return {"cloud_admin": cloud_admin, "system_reader": system_reader, "member": member,
            "reader": reader, "other_member": other_member, "no_roles": no_roles}


def test_the_table_is_complete() -> None:
    for case in CASES:
        assert len(case.expect) == len(PERSONAS) and set(case.expect) <= {"A", "D"}, case
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_protection(api: Api, personas: dict[str, Persona], project: dict[str, Any],
                    other_project: dict[str, Any], case: Case, persona: str) -> None:
    who = personas[persona]
    ids = _Ids(api, who, project, other_project)
    path = _fill(case.path, ids)
    headers = {"X-Auth-Token": who.token}
    if case.body is not None:
        resp = api.app.request(path, method=case.method, headers=headers,
                               json=_fill(case.body(), ids), status="*")
    else:
        resp = api.app.request(path, method=case.method, headers=headers, status="*")
    expected = case.expect[PERSONAS.index(persona)]
    if expected == "A":
        assert 200 <= resp.status_int < 300, (persona, case.id, resp.text)
    else:
        err = error_of(resp, 403)
        assert err["title"] == "Forbidden"


def test_member_sees_only_itself(api: Api, member: Persona, project: dict[str, Any]) -> None:
    me = api.get("/v3/users/" + member.user_id, token=member.token).json["user"]
    assert me["id"] == member.user_id and me["name"] == member.name
    mine = api.get("/v3/projects/" + project["id"], token=member.token).json["project"]
    assert mine["id"] == project["id"]
    projects = api.get("/v3/users/%s/projects" % member.user_id, token=member.token).json
    assert [p["id"] for p in projects["projects"]] == [project["id"]]
    auth_projects = api.get("/v3/auth/projects", token=member.token).json
    assert [p["id"] for p in auth_projects["projects"]] == [project["id"]]


def test_system_reader_reads_everything(api: Api, system_reader: Persona,
                                        member: Persona) -> None:
    users = api.get("/v3/users", token=system_reader.token).json["users"]
    assert {member.user_id, api.admin_user_id} <= {u["id"] for u in users}
    rows = api.get("/v3/role_assignments?user.id=" + member.user_id,
                   token=system_reader.token).json["role_assignments"]
    assert [r["role"]["id"] for r in rows] == [api.roles["member"]]
