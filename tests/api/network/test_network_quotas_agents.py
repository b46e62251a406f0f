"""Quotas and agents (heartbeats arrive over RPC)."""
from __future__ import annotations

from typing import Any

from network_api_helpers import Api, error_type, project

from common import context


def test_quota_defaults_and_update(api: Api) -> None:
    p = project()
    quota = api.call("GET", "/v2.0/quotas/" + p, p, status=200).json["quota"]
    assert quota["network"] == 100 and quota["port"] == 500
    assert quota["security_group_rule"] == 100 and quota["floatingip"] == 50
    default = api.call("GET", "/v2.0/quotas/%s/default" % p, p, status=200).json["quota"]
    assert default == quota
    api.call("GET", "/v2.0/quotas/" + project(), p, status=403)
    api.call("PUT", "/v2.0/quotas/" + p, p, json_body={"quota": {"network": 1}}, status=403)
    updated = api.call("PUT", "/v2.0/quotas/" + p, api.ADMIN, roles=api.ADMIN_ROLES,
                       json_body={"quota": {"network": 1, "port": "3"}},
                       status=200).json["quota"]
    assert updated["network"] == 1 and updated["port"] == 3
    listed = api.call("GET", "/v2.0/quotas", api.ADMIN, roles=api.ADMIN_ROLES,
                      status=200).json["quotas"]
    assert any(q["project_id"] == p for q in listed)
    api.create("networks", p, {})
    resp = api.call("POST", "/v2.0/networks", p, json_body={"network": {}}, status=409)
    assert error_type(resp) == "OverQuota"
    details = api.call("GET", "/v2.0/quotas/%s/details" % p, p, status=200).json["quota"]
    assert details["network"] == {"limit": 1, "used": 1, "reserved": 0}
    for bad in ({"network": -2}, {"network": "x"}, {"bogus": 1}, {"network": True}):
        api.call("PUT", "/v2.0/quotas/" + p, api.ADMIN, roles=api.ADMIN_ROLES,
                 json_body={"quota": bad}, status=400)
    api.call("PUT", "/v2.0/quotas/" + p, api.ADMIN, roles=api.ADMIN_ROLES,
             json_body={"quota": {"network": 0, "check_limit": True}}, status=400)
    api.call("PUT", "/v2.0/quotas/" + p, api.ADMIN, roles=api.ADMIN_ROLES,
             json_body={"quota": {"network": 5, "check_limit": True}}, status=200)
    api.call("DELETE", "/v2.0/quotas/" + p, api.ADMIN, roles=api.ADMIN_ROLES, status=204)
    api.create("networks", p, {})


def test_agents(api: Api, service: Any) -> None:
    from network import rpcapi

    client = rpcapi.PluginAPI(service.conf, timeout=10)
    state = {"agent_type": "DHCP agent", "binary": "stratus-network-dhcp-agent",
             "host": "host-a", "topic": "dhcp_agent",
             "configurations": {"networks": 0}, "start_flag": True}
    agent = client.report_state(context.admin_context(), state)
    assert agent["alive"] is True and agent["host"] == "host-a"
    again = client.report_state(context.admin_context(), dict(state, start_flag=False))
    assert again["id"] == agent["id"]
    assert client.get_agent(context.admin_context(), "DHCP agent", "host-a")["id"] == \
        agent["id"]
    agents = api.list("agents", api.ADMIN, roles=api.ADMIN_ROLES)["agents"]
    found = [a for a in agents if a["id"] == agent["id"]][0]
    assert found["configurations"] == {"networks": 0} and found["alive"] is True
    assert api.list("agents", project())["agents"] == []
    api.show("agents", project(), agent["id"], status=404)
    updated = api.update("agents", api.ADMIN, agent["id"], {"admin_state_up": False},
                         roles=api.ADMIN_ROLES)
    assert updated["admin_state_up"] is False
    api.update("agents", api.ADMIN, agent["id"], {"host": "x"}, roles=api.ADMIN_ROLES,
               status=400)
    nets = api.call("GET", "/v2.0/agents/%s/dhcp-networks" % agent["id"], api.ADMIN,
                    roles=api.ADMIN_ROLES, status=200).json
    assert nets == {"networks": []}
    routers = api.call("GET", "/v2.0/agents/%s/l3-routers" % agent["id"], api.ADMIN,
                       roles=api.ADMIN_ROLES, status=200).json
    assert routers == {"routers": []}
    api.call("POST", "/v2.0/agents", api.ADMIN, roles=api.ADMIN_ROLES,
             json_body={"agent": {}}, status=405)
    api.delete("agents", api.ADMIN, agent["id"], roles=api.ADMIN_ROLES)
    api.show("agents", api.ADMIN, agent["id"], roles=api.ADMIN_ROLES, status=404)


def _agent(service: Any, agent_type: str, host: str) -> dict[str, Any]:
    from network import rpcapi

    client = rpcapi.PluginAPI(service.conf, timeout=10)
    return client.report_state(context.admin_context(), {
        "agent_type": agent_type, "binary": "b", "host": host, "topic": "t",
        "configurations": {}, "start_flag": True})


def test_scheduling_networks_and_routers_to_agents(api: Api, service: Any) -> None:
    admin = {"roles": api.ADMIN_ROLES}
    p = project()
    dhcp_a = _agent(service, "DHCP agent", "sched-a")
    dhcp_b = _agent(service, "DHCP agent", "sched-b")
    l3_a = _agent(service, "L3 agent", "sched-a")
    l3_b = _agent(service, "L3 agent", "sched-b")
    net = api.create("networks", p, {})
    router = api.create("routers", p, {})
    base = "/v2.0/agents/%s/dhcp-networks"
    # Members may not move networks around; unknown bodies and agents are refused.
    api.call("POST", base % dhcp_a["id"], p, json_body={"network_id": net["id"]},
             status=403)
    api.call("POST", base % dhcp_a["id"], api.ADMIN, json_body={}, status=400, **admin)
    resp = api.call("POST", base % l3_a["id"], api.ADMIN,
                    json_body={"network_id": net["id"]}, status=404, **admin)
    assert error_type(resp) == "InvalidDHCPAgent"
    api.call("POST", base % dhcp_a["id"], api.ADMIN,
             json_body={"network_id": "00000000-0000-0000-0000-000000000000"},
             status=404, **admin)
    for agent in (dhcp_a, dhcp_b):
        api.call("POST", base % agent["id"], api.ADMIN, json_body={"network_id": net["id"]},
                 status=201, **admin)
    resp = api.call("POST", base % dhcp_a["id"], api.ADMIN,
                    json_body={"network_id": net["id"]}, status=409, **admin)
    assert error_type(resp) == "NetworkHostedByDHCPAgent"
    hosting = api.call("GET", "/v2.0/networks/%s/dhcp-agents" % net["id"], api.ADMIN,
                       status=200, **admin).json["agents"]
    assert {a["id"] for a in hosting} == {dhcp_a["id"], dhcp_b["id"]}
    hosted = api.call("GET", base % dhcp_a["id"], api.ADMIN, status=200, **admin).json
    assert [n["id"] for n in hosted["networks"]] == [net["id"]]
    api.call("DELETE", (base + "/%s") % (dhcp_a["id"], net["id"]), api.ADMIN, status=204,
             **admin)
    resp = api.call("DELETE", (base + "/%s") % (dhcp_a["id"], net["id"]), api.ADMIN,
                    status=409, **admin)
    assert error_type(resp) == "NetworkNotHostedByDhcpAgent"

    routers = "/v2.0/agents/%s/l3-routers"
    resp = api.call("POST", routers % dhcp_a["id"], api.ADMIN,
                    json_body={"router_id": router["id"]}, status=404, **admin)
    assert error_type(resp) == "InvalidL3Agent"
    api.call("POST", routers % l3_a["id"], api.ADMIN, json_body={"router_id": router["id"]},
             status=201, **admin)
    # A router lives on one L3 agent at a time.
    resp = api.call("POST", routers % l3_b["id"], api.ADMIN,
                    json_body={"router_id": router["id"]}, status=409, **admin)
    assert error_type(resp) == "RouterHostedByL3Agent"
    hosting = api.call("GET", "/v2.0/routers/%s/l3-agents" % router["id"], api.ADMIN,
                       status=200, **admin).json["agents"]
    assert [a["id"] for a in hosting] == [l3_a["id"]]
    api.call("DELETE", (routers + "/%s") % (l3_a["id"], router["id"]), api.ADMIN,
             status=204, **admin)
    api.call("DELETE", (routers + "/%s") % (l3_a["id"], router["id"]), api.ADMIN,
             status=409, **admin)
    api.call("POST", routers % l3_b["id"], api.ADMIN, json_body={"router_id": router["id"]},
             status=201, **admin)
    # A disabled agent takes nothing new.
    api.update("agents", api.ADMIN, l3_a["id"], {"admin_state_up": False},
               roles=api.ADMIN_ROLES)
    other = api.create("routers", p, {})
    resp = api.call("POST", routers % l3_a["id"], api.ADMIN,
                    json_body={"router_id": other["id"]}, status=404, **admin)
    assert error_type(resp) == "InvalidL3Agent"
