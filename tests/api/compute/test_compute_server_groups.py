"""os-server-groups: create, list (own project; all projects for admins), show,
delete; policies per microversion (2.13 owner ids, 2.15 soft policies, 2.64
policy and rules); the server_groups and server_group_members quotas."""
from __future__ import annotations

import uuid
from typing import Any

import compute_admin_helpers as helpers
from compute_admin_helpers import MvApi, add_instance, app_of
from compute_api_helpers import message, project

from compute import exception, server_groups

# The helpers' fixtures, used by name.
db, latest, mv = helpers.db, helpers.latest, helpers.mv

SERVICE_CONF = {"quota": {"server_groups": 2, "server_group_members": 2}}
MEMBER = "member,reader"
URL = "/v2.1/os-server-groups"


def _create(mv: MvApi, p: str, version: str = "2.1", status: int = 200,
            **group: Any) -> Any:
    body = {"name": "g-" + uuid.uuid4().hex[:6]}
    body.update(group)
    resp = mv.at(version, "POST", URL, p, roles=MEMBER, status=status,
                 json_body={"server_group": body})
    return resp.json.get("server_group", resp.json)


def test_create_show_list_delete(mv: MvApi) -> None:
    p = project()
    for policy in ("affinity", "anti-affinity"):
        group = _create(mv, p, policies=[policy])
        assert set(group) == {"id", "name", "policies", "members", "metadata"}
        assert group["policies"] == [policy] and group["members"] == []
        assert group["metadata"] == {}
        shown = mv.at("2.1", "GET", URL + "/" + group["id"], p, roles=MEMBER,
                      status=200).json["server_group"]
        assert shown == group
        listed = mv.at("2.1", "GET", URL, p, roles=MEMBER, status=200).json
        assert group in listed["server_groups"]
        mv.at("2.1", "DELETE", URL + "/" + group["id"], p, roles=MEMBER, status=204)
        mv.at("2.1", "GET", URL + "/" + group["id"], p, roles=MEMBER, status=404)
        listed = mv.at("2.1", "GET", URL, p, roles=MEMBER, status=200).json
        assert group["id"] not in [g["id"] for g in listed["server_groups"]]
    mv.at("2.1", "DELETE", URL + "/" + str(uuid.uuid4()), p, roles=MEMBER, status=404)


def test_versions(mv: MvApi) -> None:
    p = project()
    at213 = _create(mv, p, "2.13", policies=["affinity"])
    assert at213["project_id"] == p and at213["user_id"] == "user-" + p
    _create(mv, p, "2.14", status=400, policies=["soft-affinity"])
    soft = _create(mv, p, "2.15", policies=["soft-anti-affinity"])
    mv.at("2.1", "DELETE", URL + "/" + soft["id"], p, roles=MEMBER, status=204)
    at264 = _create(mv, p, "2.64", policy="anti-affinity",
                    rules={"max_server_per_host": "3"})
    assert set(at264) == {"id", "name", "policy", "rules", "members", "project_id",
                          "user_id"}
    assert at264["rules"] == {"max_server_per_host": 3}
    shown = mv.at("2.1", "GET", URL + "/" + at264["id"], p, roles=MEMBER).json
    assert shown["server_group"]["policies"] == ["anti-affinity"]


def test_bad_input(mv: MvApi) -> None:
    p = project()
    for bad in ({"policies": ["affinity", "anti-affinity"]}, {"policies": []},
                {"policies": ["sideways"]}, {"policies": ["affinity"], "name": ""},
                {"policies": ["affinity"], "extra": 1}, {"name": "x"},
                {"policy": "affinity"}):
        _create(mv, p, status=400, **bad)
    _create(mv, p, "2.64", status=400, policies=["affinity"])
    resp = _create(mv, p, "2.64", status=400, policy="affinity",
                   rules={"max_server_per_host": 2})
    assert "Only anti-affinity" in message(resp)
    _create(mv, p, "2.64", status=400, policy="anti-affinity",
            rules={"max_server_per_host": 0})
    _create(mv, p, "2.64", status=400, policy="anti-affinity", rules={"other": 1})
    mv.at("2.1", "POST", URL, p, roles=MEMBER, body=b"{", status=400,
          headers={"Content-Type": "application/json"})


def test_other_projects_and_all_projects(mv: MvApi) -> None:
    p, q = project(), project()
    group = _create(mv, p, policies=["affinity"])
    mv.at("2.1", "GET", URL + "/" + group["id"], q, roles=MEMBER, status=403)
    mv.at("2.1", "DELETE", URL + "/" + group["id"], q, roles=MEMBER, status=403)
    assert mv.at("2.1", "GET", URL, q, roles=MEMBER).json == {"server_groups": []}
    mv.at("2.1", "GET", URL + "?all_projects=True", q, roles=MEMBER, status=403)
    everything = mv.at("2.1", "GET", URL + "?all_projects=True", status=200).json
    assert group["id"] in [g["id"] for g in everything["server_groups"]]
    mv.at("2.1", "GET", URL + "/" + group["id"], status=200)
    page = mv.at("2.1", "GET", URL + "?all_projects=1&limit=1&offset=0").json
    assert len(page["server_groups"]) == 1
    mv.at("2.1", "GET", URL + "?limit=-1", p, roles=MEMBER, status=400)
    mv.at("2.1", "GET", URL, p, roles="reader", status=200)
    mv.at("2.1", "POST", URL, p, roles="reader", status=403,
          json_body={"server_group": {"name": "x", "policies": ["affinity"]}})


def test_quotas_and_members(mv: MvApi, db: Any, service: Any) -> None:
    p = project()
    first = _create(mv, p, policies=["anti-affinity"])
    _create(mv, p, policies=["affinity"])
    resp = _create(mv, p, status=403, policies=["affinity"])
    assert message(resp) == "Quota exceeded, too many server groups."
    app = app_of(service)
    groups = server_groups.ServerGroupAPI(app.conf, db)
    one, two, three = (add_instance(db, p)["uuid"] for _ in range(3))
    groups.add_member(first["id"], one)
    groups.add_member(first["id"], one)
    groups.add_member(first["id"], two)
    try:
        groups.add_member(first["id"], three)
    except exception.ServerGroupMemberLimitExceeded as err:
        assert err.code == 403
    else:
        raise AssertionError("the third member went over the quota")
    shown = mv.at("2.1", "GET", URL + "/" + first["id"], p, roles=MEMBER).json
    assert sorted(shown["server_group"]["members"]) == sorted([one, two])
    assert groups.get_by_instance(one)["id"] == first["id"]
    groups.remove_member(two)
    groups.add_member(first["id"], three)
    assert sorted(groups.get(first["id"])["members"]) == sorted([one, three])


def test_numbers_out_of_range(mv: MvApi) -> None:
    p = project()
    for value in ("", "0", "99999999999", 0):
        _create(mv, p, "2.64", status=400, policy="anti-affinity",
                rules={"max_server_per_host": value})
    mv.at("2.1", "GET", URL + "?offset=99999999999999999999", p, roles=MEMBER, status=400)
    mv.at("2.1", "GET", URL + "?limit=%C2%B2", p, roles=MEMBER, status=400)
