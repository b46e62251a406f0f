"""The DHCP agent's convergence over a fake driver and a fake server, the server's
side (scheduling, DHCP ports, network info) and the change notifications."""
from __future__ import annotations

import os
import threading
import time
from typing import Any

import pytest
from oslo_config import cfg

from common import context
from network import manager as plugin_manager
from network import rpcapi
from network.agents.dhcp import config as dhcp_config
from network.agents.dhcp import manager
from network.plugin import dhcp as plugin_dhcp
from tests.fixtures import network as fx

NET = "11111111-2222-3333-4444-555555555555"
PORT = "99999999-8888-7777-6666-555555555555"


class FakeDriver:
    def __init__(self) -> None:
        self.ns: set[str] = set()
        self.bridges: set[str] = set()
        self.plugged: dict[str, tuple[str, str, list[str], str | None]] = {}
        self.pids: dict[str, int] = {}
        self.calls: list[tuple[str, Any]] = []
        self._next = 100

    def namespaces(self) -> list[str]:
        return sorted(self.ns)

    def ensure_namespace(self, ns: str) -> bool:
        created = ns not in self.ns
        self.ns.add(ns)
        return created

    def delete_namespace(self, ns: str) -> None:
        self.ns.discard(ns)
        self.plugged = {k: v for k, v in self.plugged.items() if v[0] != ns}

    def ensure_bridge(self, bridge: str, mtu: int | None) -> None:
        self.bridges.add(bridge)

    def delete_bridge(self, bridge: str) -> None:
        self.bridges.discard(bridge)

    def plug(self, ns: str, inner: str, outer: str, mac: str, cidrs: list[str],
             mtu: int | None, bridge: str | None) -> bool:
        created = inner not in self.plugged
        self.plugged[inner] = (ns, mac, cidrs, bridge)
        return created

    def process_pid(self, pid_file: str, marker: str) -> int | None:
        return self.pids.get(pid_file)

    def start_process(self, ns: str, argv: list[str]) -> None:
        if "--pid-file" in argv:  # the metadata proxy
            pid_file = argv[argv.index("--pid-file") + 1]
            what = "proxy"
        else:
            pid_file = [a for a in argv if a.startswith("--pid-file=")][0].split("=", 1)[1]
            what = "start"
        self._next += 1
        self.pids[pid_file] = self._next
        self.calls.append((what, ns))

    def reload_dnsmasq(self, pid: int) -> None:
        self.calls.append(("reload", pid))

    def stop_process(self, pid: int) -> None:
        self.pids = {k: v for k, v in self.pids.items() if v != pid}
        self.calls.append(("stop", pid))


class FakeServer:
    def __init__(self) -> None:
        self.networks: dict[str, dict[str, Any]] = {}

    def get_active_networks_info(self, ctxt: Any, host: str) -> list[dict[str, Any]]:
        return list(self.networks.values())

    def get_network_info(self, ctxt: Any, network_id: str, host: str) -> dict[str, Any] | None:
        return self.networks.get(network_id)


def _network(ips: list[str]) -> dict[str, Any]:
    dhcp_port = {"id": PORT, "mac_address": "fa:16:3e:00:00:02",
                 "fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.0.2"}],
                 "device_owner": "network:dhcp"}
    ports = [{"id": "p%d" % i, "mac_address": "fa:16:3e:00:01:%02x" % i,
              "fixed_ips": [{"subnet_id": "s1", "ip_address": ip}],
              "device_owner": "compute:nova"} for i, ip in enumerate(ips)]
    return {"id": NET, "mtu": 1450, "dhcp_port": dhcp_port, "ports": ports + [dhcp_port],
            "subnets": [{"id": "s1", "cidr": "10.0.0.0/24", "gateway_ip": "10.0.0.1",
                         "dns_nameservers": [], "host_routes": [], "allocation_pools": [],
                         "ip_version": 4, "enable_dhcp": True, "isolated": False}]}


def _agent(tmp_path: Any) -> tuple[manager.DhcpAgentManager, FakeDriver, FakeServer]:
    conf = cfg.ConfigOpts()
    dhcp_config.register_opts(conf)
    conf([], default_config_files=[])
    conf.set_override("state_path", str(tmp_path), group="dhcp")
    conf.set_override("metadata_proxy_socket", str(tmp_path / "md.sock"), group="metadata")
    conf.set_override("force_metadata", False, group="dhcp")  # isolated subnets only
    driver, server = FakeDriver(), FakeServer()
    return manager.DhcpAgentManager(conf, server, driver, "h1"), driver, server


def test_resync_sets_up_reloads_restarts_and_removes(tmp_path: Any) -> None:
    agent, driver, server = _agent(tmp_path)
    ctxt = context.admin_context()
    server.networks[NET] = _network(["10.0.0.5"])
    agent.resync_now(ctxt)
    ns = "qdhcp-" + NET
    assert driver.ns == {ns} and driver.bridges == {"brq11111111-22"}
    assert driver.plugged["ns-99999999-88"] == (ns, "fa:16:3e:00:00:02", ["10.0.0.2/24"],
                                                 "brq11111111-22")
    with open(os.path.join(str(tmp_path), NET, "host"), encoding="utf-8") as f:
        assert "fa:16:3e:00:01:00,host-10-0-0-5,10.0.0.5\n" in f.read()
    assert driver.calls == [("start", ns)]
    assert agent.configurations()["networks"] == 1

    agent.resync_now(ctxt)  # nothing changed: dnsmasq left alone
    assert driver.calls == [("start", ns)]

    server.networks[NET] = _network(["10.0.0.5", "10.0.0.6"])
    agent.network_changed(ctxt, NET)  # a new port: hosts file re-read on SIGHUP
    assert driver.calls[-1] == ("reload", 101)
    with open(os.path.join(str(tmp_path), NET, "host"), encoding="utf-8") as f:
        assert "host-10-0-0-6" in f.read()

    changed = _network(["10.0.0.5"])
    changed["subnets"][0]["cidr"] = "10.0.0.0/16"  # a new range: restart
    server.networks[NET] = changed
    agent.network_changed(ctxt, NET)
    assert driver.calls[-2:] == [("stop", 101), ("start", ns)]

    driver.ns.clear()  # the namespace vanished: dnsmasq restarted in the new one
    agent.resync_now(ctxt)
    assert driver.calls[-2:] == [("stop", 102), ("start", ns)]

    del server.networks[NET]
    agent.network_changed(ctxt, NET)
    assert driver.ns == set() and driver.bridges == set() and driver.pids == {}
    assert not os.path.exists(os.path.join(str(tmp_path), NET))
    assert agent.configurations()["networks"] == 0


def test_a_deleted_ports_lease_is_dropped_so_its_address_can_be_reused(tmp_path: Any) -> None:
    # dnsmasq would refuse 10.0.0.5 to the new port while a lease gives it to the old
    # MAC; it reads leases only at start, so the agent restarts it without them.
    agent, driver, server = _agent(tmp_path)
    ctxt = context.admin_context()
    ns = "qdhcp-" + NET
    server.networks[NET] = _network(["10.0.0.5", "10.0.0.6"])
    agent.resync_now(ctxt)
    leases = os.path.join(str(tmp_path), NET, "leases")
    with open(leases, "w", encoding="utf-8") as f:
        f.write("1796617252 fa:16:3e:00:01:00 10.0.0.5 host-10-0-0-5 *\n"
                "1796617252 fa:16:3e:00:01:01 10.0.0.6 host-10-0-0-6 *\n"
                "duid 00:01:00:01:2c:aa\n")
    renewed = _network(["10.0.0.6", "10.0.0.5"])  # 10.0.0.5 now on another MAC
    server.networks[NET] = renewed
    agent.network_changed(ctxt, NET)
    assert driver.calls[-2:] == [("stop", 101), ("start", ns)]
    with open(leases, encoding="utf-8") as f:  # both MACs changed address
        assert f.read() == "duid 00:01:00:01:2c:aa\n"
    # Leases that still match their ports: a plain reload on the next change.
    server.networks[NET] = _network(["10.0.0.6", "10.0.0.5", "10.0.0.7"])
    agent.network_changed(ctxt, NET)
    assert driver.calls[-1] == ("reload", 102)


def test_resync_removes_stale_namespaces_and_survives_one_bad_network(tmp_path: Any) -> None:
    agent, driver, server = _agent(tmp_path)
    driver.ns = {"qdhcp-gone", "qdhcp-not-mine", "other-ns"}
    os.makedirs(os.path.join(str(tmp_path), "gone"))
    broken = _network([])
    broken["id"] = "broken"
    broken["subnets"] = []  # the DHCP port's subnet is unknown: KeyError while plugging
    server.networks = {"broken": broken, NET: _network([])}
    agent.resync_now(context.admin_context())
    assert "qdhcp-gone" not in driver.ns and "other-ns" in driver.ns
    assert "qdhcp-not-mine" in driver.ns  # no state directory: another agent's
    assert "qdhcp-" + NET in driver.ns


def test_standalone_off_leaves_bridges_alone(tmp_path: Any) -> None:
    agent, driver, server = _agent(tmp_path)
    agent._conf.set_override("bridge_mode", "none", group="dhcp")
    server.networks[NET] = _network([])
    agent.resync_now(context.admin_context())
    assert driver.bridges == set()
    assert driver.plugged["ns-99999999-88"][3] is None


@pytest.fixture
def plugin(tmp_path: Any) -> Any:
    plugin = fx.make_plugin(fx.make_conf(str(tmp_path)))
    yield plugin
    plugin.db.dispose()


def _make(plugin: Any, ctxt: Any, dhcp: bool = True) -> tuple[str, str, dict[str, Any]]:
    net = plugin.networks.create(ctxt, {
        "project_id": "p1", "name": "n", "admin_state_up": True, "shared": False,
        "router:external": False, "port_security_enabled": True, "mtu": 0})
    sub = plugin.subnets.create(ctxt, {
        "project_id": "p1", "network_id": net["id"], "name": "", "ip_version": 4,
        "cidr": "10.0.0.0/24", "enable_dhcp": dhcp, "allocation_pools": None,
        "dns_nameservers": ["8.8.8.8"]})
    port = plugin.ports.create(ctxt, {"project_id": "p1", "network_id": net["id"],
                                      "name": "", "admin_state_up": True})
    return net["id"], sub["id"], dict(port)


def _report(endpoint: Any, ctxt: Any, host: str) -> None:
    endpoint.report_state(ctxt, {"agent_type": rpcapi.DHCP_AGENT_TYPE,
                                 "binary": "stratus-network-dhcp-agent", "host": host,
                                 "topic": "dhcp_agent"})


def test_server_schedules_networks_and_creates_the_dhcp_port(plugin: Any) -> None:
    ctxt = context.admin_context()
    endpoint = plugin_manager.PluginManager(plugin)
    net_id, sub_id, port = _make(plugin, ctxt)
    _make(plugin, ctxt, dhcp=False)
    assert endpoint.get_active_networks_info(ctxt, "h1") == []  # never reported
    _report(endpoint, ctxt, "h1")
    _report(endpoint, ctxt, "h2")
    nets = endpoint.get_active_networks_info(ctxt, "h1")
    assert [n["id"] for n in nets] == [net_id]
    info = nets[0]
    dhcp_port = info["dhcp_port"]
    assert dhcp_port["device_owner"] == "network:dhcp"
    assert dhcp_port["device_id"] == plugin_dhcp.device_id("h1", net_id)
    assert dhcp_port["fixed_ips"][0]["subnet_id"] == sub_id
    assert {p["id"] for p in info["ports"]} == {port["id"], dhcp_port["id"]}
    assert info["subnets"][0]["dns_nameservers"] == ["8.8.8.8"]
    assert info["mtu"] > 0
    # The same port next time; another agent does not get the network.
    again = endpoint.get_network_info(ctxt, net_id, "h1")
    assert again is not None and again["dhcp_port"]["id"] == dhcp_port["id"]
    assert endpoint.get_active_networks_info(ctxt, "h2") == []
    assert endpoint.get_network_info(ctxt, net_id, "h2") is None
    # No router on the subnet: isolated (the DHCP namespace serves metadata) until one.
    assert info["subnets"][0]["isolated"] is True
    router = plugin.routers.create(ctxt, {"project_id": "p1", "name": "r",
                                          "admin_state_up": True})
    plugin.routers.add_interface(ctxt, router["id"], {"subnet_id": sub_id})
    routed = endpoint.get_network_info(ctxt, net_id, "h1")
    assert routed is not None and routed["subnets"][0]["isolated"] is False
    plugin.routers.remove_interface(ctxt, router["id"], {"subnet_id": sub_id})
    agent = endpoint.get_agent(ctxt, rpcapi.DHCP_AGENT_TYPE, "h1")
    assert agent is not None
    assert plugin.agents.hosted_networks(ctxt, agent["id"]) == [net_id]
    # The network goes, with its DHCP port and binding.
    plugin.ports.delete(ctxt, port["id"])
    plugin.subnets.delete(ctxt, sub_id)
    assert endpoint.get_network_info(ctxt, net_id, "h1") is None
    plugin.networks.delete(ctxt, net_id)
    assert endpoint.get_active_networks_info(ctxt, "h1") == []


def test_writers_notify_the_dhcp_agents_after_they_return(plugin: Any) -> None:
    sent: list[str | None] = []

    class Recorder:
        def network_changed(self, ctxt: Any, network_id: str | None) -> None:
            sent.append(network_id)

    from network.plugin import dhcp_notify
    dhcp_notify.install(plugin, Recorder())  # type: ignore[arg-type]
    ctxt = context.admin_context()
    net_id, sub_id, port = _make(plugin, ctxt)
    assert sent == [net_id, net_id, net_id]
    plugin.ports.update(ctxt, port["id"], {"name": "x"})
    plugin.ports.delete(ctxt, port["id"])
    plugin.subnets.update(ctxt, sub_id, {"name": "y"})
    plugin.subnets.delete(ctxt, sub_id)
    plugin.networks.update(ctxt, net_id, {"name": "z"})
    plugin.networks.delete(ctxt, net_id)
    assert sent == [net_id] * 9


def test_notifier_is_best_effort(monkeypatch: Any) -> None:
    from common import rpc
    from network.plugin import dhcp_notify
    notifier = dhcp_notify.Notifier()
    notifier.network_changed(context.admin_context(), "n")  # no RPC: nothing, no error

    class Broken:
        def network_changed(self, ctxt: Any, network_id: str) -> None:
            raise RuntimeError("bus down")

    monkeypatch.setattr(rpc, "initialized", lambda: True)
    notifier._api = Broken()
    notifier.network_changed(context.admin_context(), "n")  # logged, not raised


def test_notifications_for_one_network_coalesce(tmp_path: Any) -> None:
    agent, driver, server = _agent(tmp_path)
    server.networks[NET] = _network(["10.0.0.5"])
    calls: list[str] = []
    release = threading.Event()
    original = server.get_network_info

    def slow(ctxt: Any, network_id: str, host: str) -> dict[str, Any] | None:
        calls.append(network_id)
        release.wait(5)
        return original(ctxt, network_id, host)
    server.get_network_info = slow  # type: ignore[method-assign]
    first = threading.Thread(target=agent.network_changed, args=(None, NET))
    first.start()
    while not calls:
        time.sleep(0.01)
    # While the first pass reads the network, a burst of notifications arrives:
    # one more pass is queued for all of them, the rest return at once.
    burst = [threading.Thread(target=agent.network_changed, args=(None, NET))
             for _ in range(10)]
    for thread in burst:
        thread.start()
    time.sleep(0.2)
    assert sum(t.is_alive() for t in burst) == 1
    release.set()
    for thread in [first, *burst]:
        thread.join(5)
    assert calls == [NET, NET]


def test_isolated_network_gets_a_metadata_proxy_in_its_dhcp_namespace(tmp_path: Any) -> None:
    agent, driver, server = _agent(tmp_path)
    ctxt = context.admin_context()
    net = _network(["10.0.0.5"])
    net["subnets"][0]["isolated"] = True  # no router on the subnet
    server.networks[NET] = net
    agent.resync_now(ctxt)
    ns = "qdhcp-" + NET
    assert driver.plugged["ns-99999999-88"][2] == ["10.0.0.2/24", "169.254.169.254/32"]
    assert driver.calls == [("start", ns), ("proxy", ns)]
    pid_file = os.path.join(str(tmp_path), NET, "metadata_proxy.pid")
    proxy_pid = driver.pids[pid_file]
    with open(os.path.join(str(tmp_path), NET, "opts"), encoding="utf-8") as f:
        assert "169.254.169.254/32,10.0.0.2" in f.read()
    agent.resync_now(ctxt)  # running: left alone
    assert driver.calls[-1] == ("proxy", ns) and len(driver.calls) == 2

    routed = _network(["10.0.0.5"])  # a router now serves the subnet
    server.networks[NET] = routed
    agent.network_changed(ctxt, NET)
    assert ("stop", proxy_pid) in driver.calls and pid_file not in driver.pids
    assert driver.plugged["ns-99999999-88"][2] == ["10.0.0.2/24"]
    with open(os.path.join(str(tmp_path), NET, "opts"), encoding="utf-8") as f:
        assert "169.254.169.254" not in f.read()

    server.networks[NET] = net
    agent.network_changed(ctxt, NET)
    assert pid_file in driver.pids
    del server.networks[NET]
    agent.resync_now(ctxt)
    assert pid_file not in driver.pids and ns not in driver.ns
