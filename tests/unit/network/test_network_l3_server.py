"""The server's side of the L3 and metadata agents on an in-memory plugin:
scheduling, router descriptions, port bindings, statuses, metadata lookups,
change notifications, and the ``l3`` RPC endpoint over the in-memory transport."""
from __future__ import annotations

import inspect
from typing import Any

import pytest

from common import context
from common import rpc
from common import rpc_service
from network import exception
from network import l3_manager
from network import manager as plugin_manager
from network import rpcapi
from network.agents.l3 import manager as agent_manager
from network.agents.l3 import rpcapi as l3_rpcapi
from network.plugin import l3_notify
from tests.fixtures import network as fx


@pytest.fixture
def plugin(tmp_path: Any) -> Any:
    plugin = fx.make_plugin(fx.make_conf(str(tmp_path)))
    yield plugin
    plugin.db.dispose()


def _net(plugin: Any, ctxt: Any, name: str, cidr: str, external: bool = False) -> tuple[str, str]:
    body: dict[str, Any] = {"project_id": "p1", "name": name, "admin_state_up": True,
                            "shared": False, "router:external": external,
                            "port_security_enabled": True, "mtu": 0}
    if external:
        body.update({"provider:network_type": "flat", "provider:physical_network": "public"})
    net = plugin.networks.create(ctxt, body)
    sub = plugin.subnets.create(ctxt, {
        "project_id": "p1", "network_id": net["id"], "name": "", "ip_version": 4,
        "cidr": cidr, "enable_dhcp": False, "allocation_pools": None})
    return net["id"], sub["id"]


def _report(plugin: Any, ctxt: Any, host: str) -> str:
    agent = plugin_manager.PluginManager(plugin).report_state(ctxt, {
        "agent_type": l3_rpcapi.L3_AGENT_TYPE, "binary": "stratus-network-l3-agent",
        "host": host, "topic": l3_rpcapi.TOPIC})
    return str(agent["id"])


def _topology(plugin: Any, ctxt: Any) -> dict[str, Any]:
    ext, _ = _net(plugin, ctxt, "ext", "172.24.4.0/24", external=True)
    net, sub = _net(plugin, ctxt, "a", "10.0.0.0/24")
    router = plugin.routers.create(ctxt, {"project_id": "p1", "name": "r",
                                          "admin_state_up": True,
                                          "external_gateway_info": {"network_id": ext}})
    iface = plugin.routers.add_interface(ctxt, router["id"], {"subnet_id": sub})
    vm = plugin.ports.create(ctxt, {"project_id": "p1", "network_id": net, "name": "",
                                    "admin_state_up": True, "device_owner": "compute:nova",
                                    "device_id": "instance-1"})
    fip = plugin.floatingips.create(ctxt, {"project_id": "p1", "floating_network_id": ext,
                                           "port_id": vm["id"]})
    return {"ext": ext, "net": net, "sub": sub, "router": router, "iface": iface, "vm": vm,
            "fip": fip}


def test_sync_routers_schedules_describes_and_binds(plugin: Any) -> None:
    ctxt = context.admin_context()
    topo = _topology(plugin, ctxt)
    assert plugin.l3_agents.sync_routers(ctxt, "h1") == []  # never reported
    agent = _report(plugin, ctxt, "h1")
    routers = plugin.l3_agents.sync_routers(ctxt, "h1")
    assert [r["id"] for r in routers] == [topo["router"]["id"]]
    router = routers[0]
    assert router["enable_snat"] is True and router["admin_state_up"] is True
    gw = router["gw_port"]
    assert gw["network_id"] == topo["ext"]
    assert gw["subnets"][0]["cidr"] == "172.24.4.0/24"
    assert gw["subnets"][0]["gateway_ip"] == "172.24.4.1"
    assert gw["fixed_ips"][0]["prefixlen"] == 24
    (iface,) = router["_interfaces"]
    assert iface["id"] == topo["iface"]["port_id"]
    assert iface["fixed_ips"] == [{"subnet_id": topo["sub"], "ip_address": "10.0.0.1",
                                   "prefixlen": 24}]
    assert iface["mtu"] > 0
    (fip,) = router["_floatingips"]
    assert fip["id"] == topo["fip"]["id"]
    assert fip["fixed_ip_address"] == topo["vm"]["fixed_ips"][0]["ip_address"]
    # The router's ports are bound to the agent's host (the bridge agent plugs them).
    for port_id in (gw["id"], iface["id"]):
        port = plugin.ports.get(ctxt, port_id)
        assert port["binding:host_id"] == "h1"
        assert port["binding:vif_type"] == "bridge"
        assert port["binding:vif_details"]["bridge_name"].startswith("brq")
    assert plugin.agents.hosted_routers(ctxt, agent) == [topo["router"]["id"]]
    assert [a["id"] for a in plugin.agents.agents_of_router(ctxt, topo["router"]["id"])] \
        == [agent]
    # Another agent does not get it; asking for ids restricts the answer.
    _report(plugin, ctxt, "h2")
    assert plugin.l3_agents.sync_routers(ctxt, "h2") == []
    assert plugin.l3_agents.sync_routers(ctxt, "h1", ["other"]) == []


def test_least_loaded_agent_and_manual_binding(plugin: Any) -> None:
    ctxt = context.admin_context()
    a1, a2 = _report(plugin, ctxt, "h1"), _report(plugin, ctxt, "h2")
    net, sub = _net(plugin, ctxt, "a", "10.0.0.0/24")
    ids = []
    for i in range(4):
        router = plugin.routers.create(ctxt, {"project_id": "p1", "name": "r%d" % i,
                                              "admin_state_up": True})
        ids.append(router["id"])
    plugin.routers.add_interface(ctxt, ids[0], {"subnet_id": sub})
    net2, sub2 = _net(plugin, ctxt, "b", "10.1.0.0/24")
    plugin.routers.add_interface(ctxt, ids[1], {"subnet_id": sub2})
    plugin.l3_agents.sync_routers(ctxt, "h1")
    # Routers without ports are not scheduled; the two others spread over both agents.
    assert len(plugin.agents.hosted_routers(ctxt, a1)) == 1
    assert len(plugin.agents.hosted_routers(ctxt, a2)) == 1
    # Manual scheduling (the API's l3-routers) goes through the same bindings.
    with pytest.raises(exception.RouterHostedByL3Agent):  # already hosted elsewhere
        plugin.agents.schedule(ctxt, "l3", a2, plugin.agents.hosted_routers(ctxt, a1)[0])
    plugin.agents.schedule(ctxt, "l3", a2, ids[2])
    assert ids[2] in plugin.agents.hosted_routers(ctxt, a2)
    assert [r["id"] for r in plugin.l3_agents.sync_routers(ctxt, "h2", [ids[2]])] == [ids[2]]
    plugin.agents.unschedule(ctxt, "l3", a2, ids[2])
    assert plugin.l3_agents.sync_routers(ctxt, "h2", [ids[2]]) == []
    with pytest.raises(exception.RouterNotHostedByL3Agent):
        plugin.agents.unschedule(ctxt, "l3", a2, ids[2])
    with pytest.raises(exception.AgentNotFound):
        plugin.agents.schedule(ctxt, "l3", "nope", ids[3])
    dhcp = plugin_manager.PluginManager(plugin).report_state(ctxt, {
        "agent_type": rpcapi.DHCP_AGENT_TYPE, "binary": "x", "host": "h1", "topic": "t"})
    with pytest.raises(exception.InvalidL3Agent):
        plugin.agents.schedule(ctxt, "l3", dhcp["id"], ids[3])


def test_statuses_and_metadata_lookup(plugin: Any) -> None:
    ctxt = context.admin_context()
    topo = _topology(plugin, ctxt)
    router_id, fip_id = topo["router"]["id"], topo["fip"]["id"]
    plugin.l3_agents.update_floatingip_statuses(ctxt, router_id, {fip_id: "DOWN"})
    assert plugin.floatingips.get(ctxt, fip_id)["status"] == "DOWN"
    plugin.l3_agents.update_floatingip_statuses(ctxt, "other-router", {fip_id: "ACTIVE"})
    assert plugin.floatingips.get(ctxt, fip_id)["status"] == "DOWN"  # not that router's
    plugin.l3_agents.update_floatingip_statuses(ctxt, router_id, {fip_id: "ACTIVE"})
    assert plugin.floatingips.get(ctxt, fip_id)["status"] == "ACTIVE"
    with pytest.raises(exception.InvalidInput):
        plugin.l3_agents.update_floatingip_statuses(ctxt, router_id, {fip_id: "BOGUS"})

    gw = [p for p in plugin.ports.get_all(ctxt)
          if p["device_owner"] == "network:router_gateway"][0]
    assert gw["status"] == "DOWN"
    plugin.l3_agents.update_router_ports_status(ctxt, router_id,
                                                [gw["id"], topo["vm"]["id"]], "ACTIVE")
    assert plugin.ports.get(ctxt, gw["id"])["status"] == "ACTIVE"
    assert plugin.ports.get(ctxt, topo["vm"]["id"])["status"] == "DOWN"  # not a router port

    vm_ip = topo["vm"]["fixed_ips"][0]["ip_address"]
    found = plugin.l3_agents.get_ports_for_metadata(ctxt, vm_ip, router_id=router_id)
    assert [(p["device_id"], p["project_id"]) for p in found] == [("instance-1", "p1")]
    assert plugin.l3_agents.get_ports_for_metadata(ctxt, vm_ip, network_id=topo["net"])
    assert plugin.l3_agents.get_ports_for_metadata(ctxt, "10.9.9.9", router_id=router_id) \
        == []
    assert plugin.l3_agents.get_ports_for_metadata(ctxt, vm_ip, router_id="other") == []
    assert plugin.l3_agents.get_ports_for_metadata(ctxt, vm_ip) == []


def test_writers_notify_the_l3_agents_after_they_return(plugin: Any) -> None:
    sent: list[Any] = []

    class Recorder:
        def routers_updated(self, ctxt: Any, router_ids: list[str]) -> None:
            sent.append(sorted(set(router_ids)))

        def router_deleted(self, ctxt: Any, router_id: str) -> None:
            sent.append(("deleted", router_id))

    l3_notify.install(plugin, Recorder())  # type: ignore[arg-type]
    ctxt = context.admin_context()
    topo = _topology(plugin, ctxt)
    rid = topo["router"]["id"]
    # create, add_interface, floating IP create (associated)
    assert sent == [[rid], [rid], [rid]]
    sent.clear()
    plugin.floatingips.update(ctxt, topo["fip"]["id"], {"port_id": None})
    plugin.floatingips.update(ctxt, topo["fip"]["id"], {"port_id": topo["vm"]["id"]})
    plugin.ports.delete(ctxt, topo["vm"]["id"])  # disassociates the floating IP
    plugin.floatingips.delete(ctxt, topo["fip"]["id"])
    plugin.routers.remove_interface(ctxt, rid, {"subnet_id": topo["sub"]})
    plugin.routers.update(ctxt, rid, {"name": "x"})
    plugin.routers.delete(ctxt, rid)
    assert sent == [[rid], [rid], [rid], [], [rid], [rid], ("deleted", rid)]


def test_notifier_is_best_effort(monkeypatch: Any) -> None:
    notifier = l3_notify.Notifier()
    notifier.routers_updated(context.admin_context(), ["r"])  # no RPC: nothing, no error

    class Broken:
        def routers_updated(self, ctxt: Any, router_ids: list[str]) -> None:
            raise RuntimeError("bus down")

        def router_deleted(self, ctxt: Any, router_id: str) -> None:
            raise RuntimeError("bus down")

    monkeypatch.setattr(rpc, "initialized", lambda: True)
    notifier._api = Broken()
    notifier.routers_updated(context.admin_context(), ["r"])  # logged, not raised
    notifier.router_deleted(context.admin_context(), "r")


def _public(cls: type) -> dict[str, Any]:
    return {name: member for name, member in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_")}


def test_rpc_contracts() -> None:
    assert l3_manager.L3PluginManager.target.version == l3_rpcapi.L3PluginAPI.RPC_API_VERSION
    assert l3_manager.L3PluginManager.target.namespace == l3_rpcapi.NAMESPACE
    server = _public(l3_manager.L3PluginManager)
    client = _public(l3_rpcapi.L3PluginAPI)
    assert set(server) == set(client)
    for name, method in server.items():
        assert list(inspect.signature(method).parameters) == list(
            inspect.signature(client[name]).parameters), name
    assert agent_manager.L3AgentManager.target.version == \
        l3_rpcapi.L3AgentAPI.RPC_API_VERSION
    agent = {n: m for n, m in _public(agent_manager.L3AgentManager).items()
             if n not in ("resync_now", "configurations")}
    fanout = _public(l3_rpcapi.L3AgentAPI)
    assert set(agent) == set(fanout) == {"routers_updated", "router_deleted"}
    for name, method in agent.items():
        assert list(inspect.signature(method).parameters) == list(
            inspect.signature(fanout[name]).parameters), name


def test_l3_endpoint_beside_the_plugin_endpoint_over_rpc(tmp_path: Any) -> None:
    conf = fx.make_conf(str(tmp_path))
    plugin = fx.make_plugin(conf)
    rpc.init(conf, exmods=["network.exception"], publisher="network")
    endpoint = rpc_service.RPCService(conf, plugin_manager.PluginManager(plugin),
                                      rpcapi.TOPIC, "test",
                                      endpoints=[l3_manager.L3PluginManager(plugin)])
    endpoint.start()
    try:
        ctxt = context.admin_context()
        topo = _topology(plugin, ctxt)
        rpcapi.PluginAPI(conf).report_state(ctxt, {
            "agent_type": l3_rpcapi.L3_AGENT_TYPE, "binary": "b", "host": "h1",
            "topic": l3_rpcapi.TOPIC})
        api = l3_rpcapi.L3PluginAPI(timeout=10)
        routers = api.sync_routers(ctxt, "h1")
        assert [r["id"] for r in routers] == [topo["router"]["id"]]
        api.update_floatingip_statuses(ctxt, topo["router"]["id"],
                                       {topo["fip"]["id"]: "DOWN"})
        assert plugin.floatingips.get(ctxt, topo["fip"]["id"])["status"] == "DOWN"
        ip = topo["vm"]["fixed_ips"][0]["ip_address"]
        found = api.get_ports_for_metadata(ctxt, ip, router_id=topo["router"]["id"])
        assert found[0]["device_id"] == "instance-1"
        with pytest.raises(exception.InvalidInput):
            api.update_router_ports_status(ctxt, topo["router"]["id"], [], "BOGUS")
    finally:
        endpoint.stop()
        rpc.cleanup()
        plugin.db.dispose()
