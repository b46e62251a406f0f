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
