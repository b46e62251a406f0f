"""Security groups and rules, including each project's default group."""
from __future__ import annotations

from typing import Any

from network_api_helpers import Api, error_type, project


def _rule(api: Api, p: str, sg: str, status: int = 201, **fields: Any) -> dict[str, Any]:
    fields.setdefault("direction", "ingress")
    fields["security_group_id"] = sg
    return api.create("security-group-rules", p, fields, status=status)


def test_default_group_created_on_first_use(api: Api) -> None:
    p = project()
    groups = api.list("security-groups", p)["security_groups"]
    assert [g["name"] for g in groups] == ["default"]
    rules = groups[0]["security_group_rules"]
    assert sorted((r["direction"], r["ethertype"], r["remote_group_id"] is not None)
                  for r in rules) == [("egress", "IPv4", False), ("egress", "IPv6", False),
                                      ("ingress", "IPv4", True), ("ingress", "IPv6", True)]
    assert all(r["remote_group_id"] in (None, groups[0]["id"]) for r in rules)
    # Listing again does not create a second one.
    assert len(api.list("security-groups", p)["security_groups"]) == 1
    resp = api.call("POST", "/v2.0/security-groups", p,
                    json_body={"security_group": {"name": "default"}}, status=409)
    assert error_type(resp) == "SecurityGroupDefaultAlreadyExists"
    resp = api.delete("security-groups", p, groups[0]["id"], status=409)
    assert error_type(resp) == "SecurityGroupCannotRemoveDefault"


def test_crud(api: Api) -> None:
    p = project()
    sg = api.create("security-groups", p, {"name": "web", "description": "d"})
    assert sg["stateful"] is True and len(sg["security_group_rules"]) == 2
    assert api.update("security-groups", p, sg["id"], {"name": "web2"})["name"] == "web2"
    resp = api.call("PUT", "/v2.0/security-groups/" + sg["id"], p,
                    json_body={"security_group": {"name": "default"}}, status=409)
    assert error_type(resp) == "SecurityGroupDefaultAlreadyExists"
    assert sg["id"] in api.ids("security-groups", p, "name=web2")
    api.show("security-groups", project(), sg["id"], status=404)
    api.delete("security-groups", p, sg["id"])
    resp = api.delete("security-groups", p, sg["id"], status=404)
    assert error_type(resp) == "SecurityGroupNotFound"


def test_rules(api: Api) -> None:
    p = project()
    sg = api.create("security-groups", p, {"name": "r"})["id"]
    tcp = _rule(api, p, sg, protocol="tcp", port_range_min=22, port_range_max=22,
                remote_ip_prefix="10.0.0.1/8")
    assert tcp["remote_ip_prefix"] == "10.0.0.0/8" and tcp["ethertype"] == "IPv4"
    resp = api.call("POST", "/v2.0/security-group-rules", p, json_body={
        "security_group_rule": {"security_group_id": sg, "direction": "ingress",
                                "protocol": "6", "port_range_min": 22, "port_range_max": 22,
                                "remote_ip_prefix": "10.0.0.0/8"}}, status=409)
    assert error_type(resp) == "SecurityGroupRuleExists"
    icmp = _rule(api, p, sg, protocol="icmp", port_range_min=8, port_range_max=0)
    assert icmp["port_range_min"] == 8
    number = _rule(api, p, sg, protocol=17, ethertype="IPv6")
    assert number["protocol"] == "17" and number["ethertype"] == "IPv6"
    shown = api.show("security-group-rules", p, tcp["id"])
    assert shown == tcp
    assert tcp["id"] in api.ids("security-group-rules", p, "security_group_id=" + sg)
    api.show("security-group-rules", project(), tcp["id"], status=404)
    api.call("PUT", "/v2.0/security-group-rules/" + tcp["id"], p,
             json_body={"security_group_rule": {}}, status=405)
    api.delete("security-group-rules", p, tcp["id"])
    api.delete("security-group-rules", p, tcp["id"], status=404)


def test_bad_rules(api: Api) -> None:
    p = project()
    sg = api.create("security-groups", p, {"name": "bad"})["id"]
    missing = "9b6ee6b8-3d86-4b5b-a1a5-e5f5a6f5a5a5"
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"ethertype": "IPv5"}, 400, "InvalidInput"),
        ({"protocol": "tcp-x"}, 400, "SecurityGroupRuleInvalidProtocol"),
        ({"protocol": "256"}, 400, "SecurityGroupRuleInvalidProtocol"),
        ({"remote_ip_prefix": "10.0.0.0/99"}, 400, "InvalidInput"),
        ({"remote_ip_prefix": "2001:db8::/64"}, 400, "SecurityGroupRuleParameterConflict"),
        ({"protocol": "tcp", "port_range_min": 80, "port_range_max": 20}, 400,
         "SecurityGroupInvalidPortRange"),
        ({"protocol": "tcp", "port_range_min": 0, "port_range_max": 20}, 400,
         "SecurityGroupInvalidPortValue"),
        ({"protocol": "udp", "port_range_min": 1, "port_range_max": 65536}, 400,
         "SecurityGroupInvalidPortValue"),
        ({"protocol": "icmp", "port_range_min": 256}, 400, "SecurityGroupInvalidIcmpValue"),
        ({"protocol": "icmp", "port_range_max": 3}, 400, "SecurityGroupMissingIcmpType"),
        ({"port_range_min": 1, "port_range_max": 2}, 400,
         "SecurityGroupProtocolRequiredWithPorts"),
        ({"remote_group_id": sg, "remote_ip_prefix": "10.0.0.0/8"}, 400,
         "SecurityGroupRemoteGroupAndRemoteIpPrefix"),
        ({"remote_group_id": missing}, 404, "SecurityGroupNotFound"),
        ({"direction": "sideways"}, 400, "InvalidInput"),
    ]
    for fields, status, kind in cases:
        resp = api.call("POST", "/v2.0/security-group-rules", p, json_body={
            "security_group_rule": dict({"security_group_id": sg, "direction": "ingress"},
                                        **fields)}, status=status)
        assert error_type(resp) == kind, (fields, resp.json)
    resp = api.call("POST", "/v2.0/security-group-rules", p, json_body={
        "security_group_rule": {"security_group_id": missing, "direction": "ingress"}},
        status=404)
    assert error_type(resp) == "SecurityGroupNotFound"


def test_group_in_use(api: Api) -> None:
    p = project()
    net, _sub = api.network_with_subnet(p, "10.30.0.0/24")
    sg = api.create("security-groups", p, {"name": "used"})
    port = api.create("ports", p, {"network_id": net["id"], "security_groups": [sg["id"]]})
    resp = api.delete("security-groups", p, sg["id"], status=409)
    assert error_type(resp) == "SecurityGroupInUse"
    api.delete("ports", p, port["id"])
    api.delete("security-groups", p, sg["id"])
