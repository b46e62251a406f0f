"""The deprecated security group proxy APIs (``/os-security-groups``,
``/os-security-group-rules``, before 2.36) against a real network service over
HTTP (the in-process network server, as test_compute_server_security_groups)."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
import test_compute_server_security_groups as base
from compute_api_helpers import ADMIN, ADMIN_ROLES, message, project
from test_compute_server_security_groups import MEMBER, Env

# That module's fixtures (the network server, the compute API, Env), used by name.
cloud, service, env = base.cloud, base.service, base.env

V = "2.35"
GROUPS = "/os-security-groups"
RULES = "/os-security-group-rules"
GROUP_KEYS = {"id", "name", "description", "tenant_id", "rules"}
RULE_KEYS = {"id", "parent_group_id", "ip_protocol", "from_port", "to_port", "group",
             "ip_range"}


def _call(env: Env, method: str, path: str, proj: str, status: int,
          roles: str = MEMBER, version: str = V, **kwargs: Any) -> Any:
    token = "tok-" + uuid.uuid4().hex
    env.cloud.gate.tokens[token] = (proj, roles)
    return env.fakes.call(method, path, proj, roles=roles, version=version,
                          headers={"X-Auth-Token": token}, status=status, **kwargs)


def _admin(env: Env, method: str, path: str, status: int, **kwargs: Any) -> Any:
    return _call(env, method, path, ADMIN, status, roles=ADMIN_ROLES, **kwargs)


def _group(env: Env, proj: str, name: str, description: str = "d") -> dict[str, Any]:
    group = _call(env, "POST", GROUPS, proj, 200, json_body={
        "security_group": {"name": name, "description": description}}).json["security_group"]
    assert set(group) == GROUP_KEYS
    return dict(group)


def _rule(env: Env, proj: str, status: int = 200, **fields: Any) -> Any:
    resp = _call(env, "POST", RULES, proj, status, json_body={"security_group_rule": fields})
    if status != 200:
        return resp
    assert set(resp.json) == {"security_group_rule"}
    assert set(resp.json["security_group_rule"]) == RULE_KEYS
    return resp.json["security_group_rule"]


def test_group_create_show_update_list_delete(env: Env) -> None:
    p = project()
    web = _group(env, p, "web", "web servers")
    assert (web["name"], web["description"], web["tenant_id"], web["rules"]) == (
        "web", "web servers", p, [])
    shown = _call(env, "GET", "%s/%s" % (GROUPS, web["id"]), p, 200,
                  roles="reader").json["security_group"]
    assert shown == web
    updated = _call(env, "PUT", "%s/%s" % (GROUPS, web["id"]), p, 200, json_body={
        "security_group": {"name": "www", "description": "new"}}).json["security_group"]
    assert (updated["id"], updated["name"], updated["description"]) == (web["id"], "www",
                                                                        "new")
    listed = _call(env, "GET", GROUPS, p, 200, roles="reader").json["security_groups"]
    assert [g["name"] for g in listed] == ["default", "www"]
    assert {g["tenant_id"] for g in listed} == {p}
    # The network service has the group as the proxy shows it.
    theirs = env.cloud.call("GET", "/v2.0/security-groups/" + web["id"], p,
                            status=200)["security_group"]
    assert (theirs["name"], theirs["description"]) == ("www", "new")
    resp = _call(env, "DELETE", "%s/%s" % (GROUPS, web["id"]), p, 202)
    assert resp.body == b""
    _call(env, "GET", "%s/%s" % (GROUPS, web["id"]), p, 404)
    _call(env, "DELETE", "%s/%s" % (GROUPS, web["id"]), p, 404)
    assert [g["name"] for g in _call(env, "GET", GROUPS, p, 200).json[
        "security_groups"]] == ["default"]


def test_group_errors(env: Env) -> None:
    p = project()
    unknown = str(uuid.uuid4())
    _call(env, "GET", "%s/%s" % (GROUPS, unknown), p, 404)
    _call(env, "PUT", "%s/%s" % (GROUPS, unknown), p, 404,
          json_body={"security_group": {"name": "a", "description": "b"}})
    _call(env, "DELETE", "%s/%s" % (GROUPS, unknown), p, 404)
    _call(env, "DELETE", GROUPS + "/", p, 404)  # no id: Tempest's 404
    # Ids that are not UUIDs: Nova with Neutron answers 400.
    for method in ("GET", "DELETE"):
        resp = _call(env, method, GROUPS + "/sg-1", p, 400)
        assert "uuid" in message(resp)
    _call(env, "PUT", GROUPS + "/sg-1", p, 400,
          json_body={"security_group": {"name": "a", "description": "b"}})
    # Another project's group is not found.
    theirs = _group(env, project(), "theirs")
    _call(env, "GET", "%s/%s" % (GROUPS, theirs["id"]), p, 404)
    # The project's default group cannot be deleted; nor a group in use.
    default = next(g for g in _call(env, "GET", GROUPS, p, 200).json["security_groups"]
                   if g["name"] == "default")
    _call(env, "DELETE", "%s/%s" % (GROUPS, default["id"]), p, 400)
    used = _group(env, p, "used")
    instance = env.server(p)
    env.action(instance, {"addSecurityGroup": {"name": "used"}}, p, 202)
    _call(env, "DELETE", "%s/%s" % (GROUPS, used["id"]), p, 400)
    _call(env, "GET", "%s/%s" % (GROUPS, used["id"]), p, 200)


@pytest.mark.parametrize("body", [
    {}, {"security_group": None}, {"security_group": {"name": "a"}},
    {"security_group": {"description": "a"}},
    {"security_group": {"name": 5, "description": "a"}},
    {"security_group": {"name": "a" * 256, "description": "a"}},
    {"security_group": {"name": "a", "description": "d" * 256}}])
def test_bad_group_bodies(env: Env, body: Any) -> None:
    p = project()
    _call(env, "POST", GROUPS, p, 400, json_body=body)
    web = _group(env, p, "web")
    _call(env, "PUT", "%s/%s" % (GROUPS, web["id"]), p, 400, json_body=body)
    assert [g["name"] for g in _call(env, "GET", GROUPS, p, 200).json[
        "security_groups"]] == ["default", "web"]


def test_rules(env: Env) -> None:
    p = project()
    web = _group(env, p, "web")
    peer = _group(env, p, "peer")
    ssh = _rule(env, p, parent_group_id=web["id"], ip_protocol="tcp", from_port=22,
                to_port=22)
    assert ssh == {"id": ssh["id"], "parent_group_id": web["id"], "ip_protocol": "tcp",
                   "from_port": 22, "to_port": 22, "group": {},
                   "ip_range": {"cidr": "0.0.0.0/0"}}
    # The cidr as asked for (the network service keeps its network address).
    https = _rule(env, p, parent_group_id=web["id"], ip_protocol="TCP", from_port="443",
                  to_port=443, cidr="10.2.3.124/24")
    assert (https["from_port"], https["ip_range"]) == (443, {"cidr": "10.2.3.124/24"})
    ping = _rule(env, p, parent_group_id=web["id"], ip_protocol="icmp", from_port=-1,
                 to_port=-1)
    assert (ping["ip_protocol"], ping["from_port"], ping["to_port"]) == ("icmp", -1, -1)
    from_peer = _rule(env, p, parent_group_id=web["id"], ip_protocol="tcp",
                      group_id=peer["id"])
    assert (from_peer["group"], from_peer["ip_range"], from_peer["from_port"],
            from_peer["to_port"]) == ({"name": "peer", "tenant_id": p}, {}, 1, 65535)
    rules = {r["id"]: r for r in _call(env, "GET", "%s/%s" % (GROUPS, web["id"]), p,
                                       200).json["security_group"]["rules"]}
    assert set(rules) == {ssh["id"], https["id"], ping["id"], from_peer["id"]}
    assert rules[ssh["id"]] == ssh and rules[from_peer["id"]] == from_peer
    theirs = env.cloud.call("GET", "/v2.0/security-group-rules/" + ping["id"], p,
                            status=200)["security_group_rule"]
    assert (theirs["direction"], theirs["protocol"], theirs["port_range_min"],
            theirs["ethertype"]) == ("ingress", "icmp", None, "IPv4")
    # Deleting the peer group takes its rule along (Tempest checks this).
    _call(env, "DELETE", "%s/%s" % (GROUPS, peer["id"]), p, 202)
    rules = _call(env, "GET", "%s/%s" % (GROUPS, web["id"]), p,
                  200).json["security_group"]["rules"]
    assert from_peer["id"] not in {r["id"] for r in rules}
    assert _call(env, "DELETE", "%s/%s" % (RULES, ssh["id"]), p, 202).body == b""
    _call(env, "DELETE", "%s/%s" % (RULES, ssh["id"]), p, 404)
    rules = _call(env, "GET", "%s/%s" % (GROUPS, web["id"]), p,
                  200).json["security_group"]["rules"]
    assert {r["id"] for r in rules} == {https["id"], ping["id"]}


def test_rule_errors(env: Env) -> None:
    p = project()
    web = _group(env, p, "web")
    tcp = {"parent_group_id": web["id"], "ip_protocol": "tcp", "from_port": 22,
           "to_port": 22}
    _rule(env, p, **tcp)
    resp = _rule(env, p, 400, **tcp)  # the same rule twice: Neutron's 409, Nova's 400
    assert message(resp)
    _rule(env, p, 404, **dict(tcp, parent_group_id=str(uuid.uuid4())))
    _rule(env, p, 404, **dict(tcp, group_id=str(uuid.uuid4())))
    for bad in ({"parent_group_id": "non_int_id"}, {"group_id": "x"},
                {"ip_protocol": "999tcp"}, {"from_port": 65536}, {"to_port": 65536},
                {"from_port": 0}, {"from_port": 22, "to_port": 21},
                {"from_port": "a"}, {"cidr": "10.0.0.0/33"}, {"cidr": "bogus"},
                {"cidr": "10.0.0.1"}, {"cidr": "10.0.0.0/0"},
                {"ip_protocol": None}, {"from_port": None},
                {"ip_protocol": "icmp", "from_port": 256, "to_port": -1}):
        _rule(env, p, 400, **dict(tcp, **bad))
    for body in ({}, {"security_group_rule": None}, {"security_group_rule": {}},
                 {"security_group_rule": dict(tcp, from_port=[1])}):
        _call(env, "POST", RULES, p, 400, json_body=body)
    _call(env, "DELETE", RULES + "/r-1", p, 400)
    _call(env, "DELETE", "%s/%s" % (RULES, uuid.uuid4()), p, 404)
    _call(env, "GET", RULES, p, 404)  # Nova has no rule reads: 404, not 405
    _call(env, "GET", RULES + "/x", p, 404)
    rules = _call(env, "GET", "%s/%s" % (GROUPS, web["id"]), p,
                  200).json["security_group"]["rules"]
    assert len(rules) == 1


def test_all_tenants_and_policy(env: Env) -> None:
    p = project()
    mine = _group(env, p, "mine")
    admin_group = _group_as_admin(env)
    listed = {g["id"] for g in _admin(env, "GET", GROUPS + "?all_tenants=true",
                                      200).json["security_groups"]}
    assert {mine["id"], admin_group["id"]} <= listed
    own = {g["id"] for g in _admin(env, "GET", GROUPS, 200).json["security_groups"]}
    assert admin_group["id"] in own and mine["id"] not in own
    # all_tenants means nothing for a project member.
    theirs = {g["id"] for g in _call(env, "GET", GROUPS + "?all_tenants=1", p, 200,
                                     roles="reader").json["security_groups"]}
    assert mine["id"] in theirs and admin_group["id"] not in theirs
    # Readers read; the changes are the members'.
    _call(env, "POST", GROUPS, p, 403, roles="reader",
          json_body={"security_group": {"name": "a", "description": "b"}})
    _call(env, "PUT", "%s/%s" % (GROUPS, mine["id"]), p, 403, roles="reader",
          json_body={"security_group": {"name": "a", "description": "b"}})
    _call(env, "DELETE", "%s/%s" % (GROUPS, mine["id"]), p, 403, roles="reader")
    _call(env, "POST", RULES, p, 403, roles="reader", json_body={"security_group_rule": {
        "parent_group_id": mine["id"], "ip_protocol": "tcp", "from_port": 1, "to_port": 2}})
    rule = _rule(env, p, parent_group_id=mine["id"], ip_protocol="udp", from_port=53,
                 to_port=53)
    _call(env, "DELETE", "%s/%s" % (RULES, rule["id"]), p, 403, roles="reader")
    _call(env, "GET", "%s/%s" % (GROUPS, mine["id"]), p, 200, roles="reader")


def _group_as_admin(env: Env) -> dict[str, Any]:
    return dict(_admin(env, "POST", GROUPS, 200, json_body={
        "security_group": {"name": "adm-" + uuid.uuid4().hex[:6],
                           "description": "x"}}).json["security_group"])


def test_gone_from_236(env: Env) -> None:
    p = project()
    web = _group(env, p, "web")
    for method, path in (("GET", GROUPS), ("GET", "%s/%s" % (GROUPS, web["id"])),
                         ("DELETE", "%s/%s" % (GROUPS, web["id"])),
                         ("DELETE", "%s/%s" % (RULES, uuid.uuid4()))):
        _call(env, method, path, p, 404, version="2.36")
    _call(env, "POST", GROUPS, p, 404, version="2.36",
          json_body={"security_group": {"name": "a", "description": "b"}})
    _call(env, "POST", RULES, p, 404, version="2.47", json_body={"security_group_rule": {
        "parent_group_id": web["id"], "ip_protocol": "tcp", "from_port": 1, "to_port": 2}})
    _call(env, "GET", "%s/%s" % (GROUPS, web["id"]), p, 200, version="2.1")
    # The project-prefixed URL form is served too.
    _call(env, "GET", "/%s%s/%s" % (p, GROUPS, web["id"]), p, 200)
