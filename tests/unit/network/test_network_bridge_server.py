"""The server side of the bridge agents on an in-memory database: device details,
port status, security group info, tunnel peers, the ``l2`` RPC endpoint (also over
the in-memory transport) and the fanout notifications."""
from __future__ import annotations

import datetime
import inspect
from typing import Any, Iterator

import pytest

from common import context
from common import rpc
from common import rpc_service
from network import l2_manager
from network import manager as plugin_manager
from network import rpcapi
from network.agents.bridge import manager as agent_manager
from network.agents.bridge import plugin_api
from network.agents.bridge import rpcapi as agent_rpcapi
from network.db import models
from network.plugin import l2
from tests.fixtures import network as fx


def _public(cls: type) -> dict[str, Any]:
    return {name: member for name, member in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_")}


def _same_signatures(server: dict[str, Any], client: dict[str, Any]) -> None:
    assert set(server) == set(client)
    for name, method in server.items():
        assert list(inspect.signature(method).parameters) == list(
            inspect.signature(client[name]).parameters), name


def test_l2_contract() -> None:
    assert l2_manager.L2Manager.target.namespace == plugin_api.NAMESPACE == "l2"
    assert l2_manager.L2Manager.target.version == plugin_api.L2PluginAPI.RPC_API_VERSION
    _same_signatures(_public(l2_manager.L2Manager), _public(plugin_api.L2PluginAPI))
    for method in _public(l2_manager.L2Manager).values():
        assert hasattr(method, "__wrapped__"), method  # @rpc.expected


def test_agent_fanout_contract() -> None:
    assert agent_manager.BridgeAgentManager.target.version == \
        agent_rpcapi.BridgeAgentAPI.RPC_API_VERSION
    server = {n: m for n, m in _public(agent_manager.BridgeAgentManager).items()
              if n not in ("poll_once", "resync_soon", "configurations")}
    _same_signatures(server, _public(agent_rpcapi.BridgeAgentAPI))


@pytest.fixture
def plugin(tmp_path: Any) -> Iterator[Any]:
    plugin = fx.make_plugin(fx.make_conf(str(tmp_path)))
    yield plugin
    plugin.db.dispose()


def _net(plugin: Any, ctxt: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    net = plugin.networks.create(ctxt, {
        "project_id": "p1", "name": "n", "admin_state_up": True, "shared": False,
        "router:external": False, "port_security_enabled": True, "mtu": 0})
    sub = plugin.subnets.create(ctxt, {
        "project_id": "p1", "network_id": net["id"], "name": "", "ip_version": 4,
        "cidr": "10.0.0.0/24", "enable_dhcp": True, "allocation_pools": None,
        "dns_nameservers": []})
    return net, sub


def _port(plugin: Any, ctxt: Any, net_id: str, **body: Any) -> dict[str, Any]:
    return dict(plugin.ports.create(ctxt, dict({"project_id": "p1", "network_id": net_id,
                                                "name": "", "admin_state_up": True},
                                               **body)))


def test_device_details_and_status(plugin: Any) -> None:
    ctxt = context.admin_context()
    net, _sub = _net(plugin, ctxt)
    port = _port(plugin, ctxt, net["id"], allowed_address_pairs=[
        {"ip_address": "10.0.0.200"}])
    endpoint = l2_manager.L2Manager(plugin)
    dev = l2.device_name(port["id"])
    [info, unknown] = endpoint.get_devices_details_list(ctxt, [dev, "tapnothing00"], "h1")
    assert unknown == {"device": "tapnothing00"}
    assert info["port_id"] == port["id"] and info["network_id"] == net["id"]
    assert info["network_type"] == "vxlan" and info["segmentation_id"]
    assert info["mtu"] == net["mtu"] and info["mac_address"] == port["mac_address"]
    assert info["fixed_ips"] == [port["fixed_ips"][0]["ip_address"]]
    assert info["security_groups"] == port["security_groups"] != []
    assert info["allowed_address_pairs"] == [{"ip_address": "10.0.0.200",
                                              "mac_address": port["mac_address"]}]
    assert info["admin_state_up"] is True and info["port_security_enabled"] is True

    up = endpoint.update_device_up(ctxt, dev, "h1")
    assert up is not None and up["status"] == "ACTIVE"
    assert up["binding:host_id"] == "h1" and up["binding:vif_type"] == "bridge"
    assert up["binding:vif_details"]["bridge_name"] == "brq" + net["id"][:11]
    assert endpoint.update_device_up(ctxt, dev, "h2") is None  # bound to h1
    assert plugin.ports.get(ctxt, port["id"])["status"] == "ACTIVE"
    down = endpoint.update_device_down(ctxt, dev, "h1")
    assert down is not None and down["status"] == "DOWN"
    assert endpoint.update_device_up(ctxt, "tapnothing00", "h1") is None

    again, old = plugin.l2.set_port_status(ctxt, port["id"], "ACTIVE", None)
    assert old == "DOWN" and again["status"] == "ACTIVE"
    plugin.ports.update(ctxt, port["id"], {"admin_state_up": False})
    assert endpoint.get_devices_details_list(ctxt, [port["id"]], "h1")[0][
        "admin_state_up"] is False


def test_security_group_info(plugin: Any) -> None:
    ctxt = context.admin_context()
    net, _sub = _net(plugin, ctxt)
    a = _port(plugin, ctxt, net["id"])
    b = _port(plugin, ctxt, net["id"], allowed_address_pairs=[{"ip_address": "10.5.0.0/24"}])
    default = a["security_groups"][0]
    info = l2_manager.L2Manager(plugin).security_group_info_for_devices(ctxt, [a["id"]])
    rules = info["security_groups"][default]
    assert {(r["direction"], r["ethertype"], r["remote_group_id"]) for r in rules} == {
        ("egress", "IPv4", None), ("egress", "IPv6", None),
        ("ingress", "IPv4", default), ("ingress", "IPv6", default)}
    ips = sorted([a["fixed_ips"][0]["ip_address"], b["fixed_ips"][0]["ip_address"],
                  "10.5.0.0/24"])
    assert info["sg_member_ips"] == {default: {"IPv4": ips, "IPv6": []}}
    assert plugin.l2.security_group_info(ctxt, []) == {"security_groups": {},
                                                       "sg_member_ips": {}}
    assert plugin.l2.ports_of_groups(ctxt, [default]) == sorted([a["id"], b["id"]])


def _report(plugin: Any, host: str, ip: str | None) -> str:
    state = plugin_manager.PluginManager(plugin).report_state(context.admin_context(), {
        "agent_type": plugin_api.AGENT_TYPE, "binary": "stratus-network-bridge-agent",
        "host": host, "topic": agent_rpcapi.TOPIC,
        "configurations": {"tunneling_ip": ip, "tunnel_types": ["vxlan"] if ip else []}})
    return str(state["id"])


def test_tunnel_peers(plugin: Any) -> None:
    ctxt = context.admin_context()
    _report(plugin, "h1", "192.0.2.1")
    _report(plugin, "h2", "192.0.2.2")
    _report(plugin, "h3", None)
    dead = _report(plugin, "h4", "192.0.2.4")
    _report(plugin, "h5", "192.0.2.1")  # same IP as h1 (a re-installed host)
    with plugin.db.writer() as s:
        row = s.get(models.Agent, dead)
        row.heartbeat_timestamp -= datetime.timedelta(seconds=600)
    assert l2_manager.L2Manager(plugin).get_tunnel_peers(ctxt, "h1") == ["192.0.2.2"]
    assert plugin.l2.tunnel_peers(ctxt, "h9") == ["192.0.2.1", "192.0.2.2"]


class Recorder:
    def __init__(self) -> None:
        self.casts: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, method: str) -> Any:
        def cast(ctxt: Any, **kwargs: Any) -> None:
            self.casts.append((method, kwargs))
        return cast


def test_notifications(plugin: Any) -> None:
    ctxt = context.admin_context()
    recorder = Recorder()
    plugin.l2_notifier._api = recorder
    net, _sub = _net(plugin, ctxt)
    port = _port(plugin, ctxt, net["id"])
    default = port["security_groups"][0]
    assert ("security_groups_member_updated", {"security_groups": [default]}) in \
        recorder.casts
    recorder.casts.clear()

    plugin.ports.update(ctxt, port["id"], {"name": "renamed"})
    assert recorder.casts == [("port_update", {"port_id": port["id"]})]
    recorder.casts.clear()

    group = plugin.security_groups.create(ctxt, {"project_id": "p1", "name": "web",
                                                 "stateful": True})
    recorder.casts.clear()
    plugin.ports.update(ctxt, port["id"], {"security_groups": [group["id"]]})
    assert recorder.casts == [
        ("port_update", {"port_id": port["id"]}),
        ("security_groups_member_updated",
         {"security_groups": sorted([default, group["id"]])})]
    recorder.casts.clear()

    rule = plugin.security_groups.create_rule(ctxt, {
        "security_group_id": group["id"], "direction": "ingress", "ethertype": "IPv4",
        "protocol": "icmp"})
    plugin.security_groups.delete_rule(ctxt, rule["id"])
    assert recorder.casts == [
        ("security_groups_rule_updated", {"security_groups": [group["id"]]})] * 2
    recorder.casts.clear()

    plugin.ports.delete(ctxt, port["id"])
    assert recorder.casts == [
        ("port_delete", {"port_id": port["id"]}),
        ("security_groups_member_updated", {"security_groups": [group["id"]]})]
    recorder.casts.clear()
    plugin.networks.delete(ctxt, net["id"])
    assert ("network_delete", {"network_id": net["id"]}) in recorder.casts


def test_notifier_is_best_effort(plugin: Any) -> None:
    class Broken:
        def port_update(self, ctxt: Any, **kwargs: Any) -> None:
            raise RuntimeError("broker down")

    ctxt = context.admin_context()
    plugin.l2_notifier._api = Broken()
    net, _sub = _net(plugin, ctxt)
    port = _port(plugin, ctxt, net["id"])
    assert plugin.ports.update(ctxt, port["id"], {"name": "x"})["name"] == "x"


def test_l2_endpoint_over_the_in_memory_transport(tmp_path: Any) -> None:
    conf = fx.make_conf(str(tmp_path))
    plugin = fx.make_plugin(conf)
    rpc.init(conf, exmods=["network.exception"], publisher="network")
    service = rpc_service.RPCService(conf, plugin_manager.PluginManager(plugin),
                                     rpcapi.TOPIC, "test",
                                     endpoints=[l2_manager.L2Manager(plugin)])
    service.start()
    try:
        ctxt = context.admin_context()
        net, _sub = _net(plugin, ctxt)
        port = _port(plugin, ctxt, net["id"])
        client = plugin_api.L2PluginAPI(timeout=10)
        dev = l2.device_name(port["id"])
        [info] = client.get_devices_details_list(ctxt, [dev], "h1")
        assert info["port_id"] == port["id"]
        assert client.update_device_up(ctxt, dev, "h1")["status"] == "ACTIVE"
        assert client.update_device_down(ctxt, dev, "h1")["status"] == "DOWN"
        assert port["security_groups"][0] in client.security_group_info_for_devices(
            ctxt, [port["id"]])["security_groups"]
        assert client.get_tunnel_peers(ctxt, "h1") == []
    finally:
        service.stop()
        rpc.cleanup()
        plugin.db.dispose()
