"""The bridge agent's convergence over a fake driver, a fake server and a
recording firewall: plugging, status reports, bridges and uplinks, VXLAN flooding,
removal, RPC-triggered refreshes and full resyncs."""
from __future__ import annotations

from typing import Any

import pytest
from oslo_config import cfg

from common import context
from network.agents.bridge import config as bridge_config
from network.agents.bridge import firewall as bridge_firewall
from network.agents.bridge import manager

NET = "11111111-2222-3333-4444-555555555555"
NET2 = "22222222-2222-3333-4444-555555555555"
P1 = "aaaaaaaa-1111-2222-3333-444444444444"
P2 = "bbbbbbbb-1111-2222-3333-444444444444"


class FakeDriver:
    def __init__(self) -> None:
        self.links: dict[str, dict[str, Any]] = {}  # name -> {master, up, mtu, kind}
        self.fdb: dict[str, set[str]] = {}
        self.calls: list[tuple[str, ...]] = []

    def add_tap(self, name: str) -> None:
        self.links[name] = {"master": None, "up": False, "mtu": 1500, "kind": "veth"}

    def devices(self, prefix: str) -> dict[str, str | None]:
        return {n: v["master"] for n, v in self.links.items() if n.startswith(prefix)}

    def link_exists(self, name: str) -> bool:
        return name in self.links

    def ensure_bridge(self, name: str, mtu: int | None) -> bool:
        created = name not in self.links
        self.links.setdefault(name, {"master": None, "up": True, "mtu": 1500,
                                     "kind": "bridge"})
        if mtu:
            self.links[name]["mtu"] = mtu
        return created

    def bridge_ports(self, bridge: str) -> list[str]:
        return sorted(n for n, v in self.links.items() if v["master"] == bridge)

    def ensure_vxlan(self, name: str, vni: int, local_ip: str, port: int,
                     ttl: int | None, mtu: int | None) -> None:
        self.links.setdefault(name, {"master": None, "up": False, "mtu": mtu,
                                     "kind": "vxlan", "vni": vni, "local": local_ip,
                                     "port": port})
        self.fdb.setdefault(name, set())

    def ensure_vlan(self, parent: str, vlan_id: int, mtu: int | None) -> str:
        name = "%s.%d" % (parent, vlan_id)
        self.links.setdefault(name, {"master": None, "up": False, "mtu": mtu,
                                     "kind": "vlan"})
        return name

    def delete_link(self, name: str) -> None:
        self.calls.append(("delete", name))
        self.links.pop(name, None)
        self.fdb.pop(name, None)
        for link in self.links.values():
            if link["master"] == name:
                link["master"] = None

    def plug(self, dev: str, bridge: str, mtu: int | None, up: bool) -> None:
        if dev not in self.links:
            raise RuntimeError("device %s does not exist" % dev)
        self.links[dev].update(master=bridge, up=up)
        if mtu:
            self.links[dev]["mtu"] = mtu

    def flood_destinations(self, dev: str) -> set[str]:
        return set(self.fdb.get(dev, set()))

    def add_flood_destination(self, dev: str, dst: str) -> None:
        self.fdb.setdefault(dev, set()).add(dst)

    def remove_flood_destination(self, dev: str, dst: str) -> None:
        self.fdb.get(dev, set()).discard(dst)

    def iptables_save(self, ipv6: bool) -> str:
        return "*filter\nCOMMIT\n"

    def iptables_restore(self, ipv6: bool, text: str) -> None:
        self.calls.append(("restore", text))


class FakeServer:
    def __init__(self) -> None:
        self.ports: dict[str, dict[str, Any]] = {}
        self.status: dict[str, str] = {}
        self.peers: list[str] = []
        self.sg_info: dict[str, Any] = {"security_groups": {}, "sg_member_ips": {}}
        self.asked: list[list[str]] = []
        self.sg_asks = 0

    def get_devices_details_list(self, ctxt: Any, devices: list[str],
                                 host: str) -> list[dict[str, Any]]:
        self.asked.append(list(devices))
        out = []
        for dev in devices:
            port = next((p for p in self.ports.values()
                         if manager.device_name(p["port_id"]) == dev), None)
            out.append(dict(port, device=dev) if port else {"device": dev})
        return out

    def update_device_up(self, ctxt: Any, device: str, host: str) -> dict[str, Any]:
        self.status[device] = "ACTIVE"
        return {}

    def update_device_down(self, ctxt: Any, device: str, host: str) -> dict[str, Any]:
        self.status[device] = "DOWN"
        return {}

    def security_group_info_for_devices(self, ctxt: Any,
                                        devices: list[str]) -> dict[str, Any]:
        self.sg_asks += 1
        return self.sg_info

    def get_tunnel_peers(self, ctxt: Any, host: str) -> list[str]:
        return list(self.peers)


class RecordingFirewall:
    def __init__(self) -> None:
        self.applied: list[tuple[list[str], dict[str, Any]]] = []

    def apply(self, ports: list[dict[str, Any]], sg_info: dict[str, Any]) -> None:
        self.applied.append((sorted(p["device"] for p in ports), sg_info))


def _port(port_id: str, net: str = NET, **extra: Any) -> dict[str, Any]:
    out = {"port_id": port_id, "network_id": net, "network_type": "vxlan",
           "physical_network": None, "segmentation_id": 77, "mtu": 1450,
           "mac_address": "fa:16:3e:00:00:01", "fixed_ips": ["10.0.0.5"],
           "admin_state_up": True, "device_owner": "compute:nova",
           "port_security_enabled": True, "security_groups": ["g1"],
           "allowed_address_pairs": [], "status": "DOWN"}
    out.update(extra)
    return out


Agent = tuple[manager.BridgeAgentManager, FakeDriver, FakeServer, RecordingFirewall]


def _agent(**overrides: Any) -> Agent:
    conf = cfg.ConfigOpts()
    bridge_config.register_opts(conf)
    conf([], default_config_files=[])
    conf.set_override("local_ip", "192.0.2.1", group="vxlan")
    for key, value in overrides.items():
        group, name = key.split("__")
        conf.set_override(name, value, group=group)
    driver, server, firewall = FakeDriver(), FakeServer(), RecordingFirewall()
    agent = manager.BridgeAgentManager(conf, server, driver, firewall, "h1")
    return agent, driver, server, firewall


def test_new_device_is_wired_filtered_and_reported_up() -> None:
    agent, driver, server, firewall = _agent()
    ctxt = context.admin_context()
    server.peers = ["192.0.2.2", "192.0.2.1"]
    server.ports[P1] = _port(P1)
    tap = manager.device_name(P1)
    driver.add_tap(tap)
    agent.poll_once(ctxt)
    bridge = "brq" + NET[:11]
    assert driver.links[tap] == {"master": bridge, "up": True, "mtu": 1450, "kind": "veth"}
    assert driver.links["vxlan-77"]["master"] == bridge
    assert driver.links["vxlan-77"]["vni"] == 77 and driver.links["vxlan-77"]["port"] == 4789
    assert driver.links[bridge]["mtu"] == 1450
    assert driver.fdb["vxlan-77"] == {"192.0.2.2"}  # own tunnel IP excluded
    assert server.status == {tap: "ACTIVE"}
    assert firewall.applied[-1][0] == [tap]
    assert agent.configurations()["devices"] == 1
    assert agent.configurations()["tunneling_ip"] == "192.0.2.1"

    applied = len(firewall.applied)
    agent.poll_once(ctxt)  # nothing changed: nothing asked, nothing applied
    assert len(server.asked) == 1 and len(firewall.applied) == applied


def test_admin_down_unknown_devices_and_port_update() -> None:
    agent, driver, server, firewall = _agent()
    ctxt = context.admin_context()
    server.ports[P1] = _port(P1, admin_state_up=False)
    tap, stranger = manager.device_name(P1), "tapnotaport1"
    driver.add_tap(tap)
    driver.add_tap(stranger)
    agent.poll_once(ctxt)
    assert driver.links[tap]["up"] is False and server.status == {tap: "DOWN"}
    assert driver.links[stranger]["master"] is None  # not ours: untouched

    agent.poll_once(ctxt)  # the unknown device is not asked about again
    assert server.asked == [sorted([tap, stranger])]

    server.ports[P1]["admin_state_up"] = True
    agent.port_update(ctxt, P1)
    agent.poll_once(ctxt)
    assert server.asked[-1] == [tap]
    assert driver.links[tap]["up"] is True and server.status[tap] == "ACTIVE"


def test_removed_device_reported_down_and_bridge_removed() -> None:
    agent, driver, server, firewall = _agent()
    ctxt = context.admin_context()
    server.ports[P1] = _port(P1)
    server.ports[P2] = _port(P2)
    t1, t2 = manager.device_name(P1), manager.device_name(P2)
    driver.add_tap(t1)
    driver.add_tap(t2)
    agent.poll_once(ctxt)
    bridge = "brq" + NET[:11]
    del driver.links[t1]
    agent.poll_once(ctxt)
    assert server.status[t1] == "DOWN" and firewall.applied[-1][0] == [t2]
    assert bridge in driver.links  # still used by t2

    del driver.links[t2]
    agent.poll_once(ctxt)
    assert bridge not in driver.links and "vxlan-77" not in driver.links
    assert firewall.applied[-1][0] == []


def test_bridge_with_a_foreign_port_is_kept_until_it_leaves() -> None:
    agent, driver, server, _fw = _agent()
    ctxt = context.admin_context()
    server.ports[P1] = _port(P1)
    tap = manager.device_name(P1)
    driver.add_tap(tap)
    agent.poll_once(ctxt)
    bridge = "brq" + NET[:11]
    driver.links["foreign"] = {"master": bridge, "up": True, "mtu": 1450, "kind": "veth"}
    del driver.links[tap]
    agent.poll_once(ctxt)
    assert bridge in driver.links
    del driver.links["foreign"]
    agent.network_delete(ctxt, NET)
    assert bridge not in driver.links


def test_deleted_port_is_no_longer_filtered() -> None:
    agent, driver, server, firewall = _agent()
    ctxt = context.admin_context()
    server.ports[P1] = _port(P1)
    tap = manager.device_name(P1)
    driver.add_tap(tap)
    agent.poll_once(ctxt)
    del server.ports[P1]
    agent.port_delete(ctxt, P1)
    agent.poll_once(ctxt)
    assert firewall.applied[-1][0] == []


def test_security_group_notifications_refresh_the_firewall() -> None:
    agent, driver, server, firewall = _agent()
    ctxt = context.admin_context()
    server.ports[P1] = _port(P1)
    driver.add_tap(manager.device_name(P1))
    server.sg_info = {"security_groups": {"g1": [{"direction": "ingress",
                                                  "ethertype": "IPv4",
                                                  "remote_group_id": "g2"}]},
                      "sg_member_ips": {"g2": {"IPv4": [], "IPv6": []}}}
    agent.poll_once(ctxt)
    asks = server.sg_asks
    agent.security_groups_rule_updated(ctxt, ["other"])
    agent.security_groups_member_updated(ctxt, ["other"])
    agent.poll_once(ctxt)
    assert server.sg_asks == asks  # not our groups: nothing asked

    server.sg_info = {"security_groups": {"g1": []}, "sg_member_ips": {}}
    agent.security_groups_rule_updated(ctxt, ["g1"])
    agent.poll_once(ctxt)
    assert server.sg_asks == asks + 1 and firewall.applied[-1][1]["security_groups"] == \
        {"g1": []}
    agent._sg_info = {"sg_member_ips": {"g2": {}}}
    agent.security_groups_member_updated(ctxt, ["g2"])
    agent.poll_once(ctxt)
    assert server.sg_asks == asks + 2


def test_full_resync_rereads_everything_and_follows_peers() -> None:
    agent, driver, server, firewall = _agent()
    ctxt = context.admin_context()
    server.ports[P1] = _port(P1)
    tap = manager.device_name(P1)
    driver.add_tap(tap)
    server.peers = ["192.0.2.2"]
    agent.poll_once(ctxt)
    server.peers = ["192.0.2.3"]
    driver.links[tap]["master"] = None  # someone unplugged it
    agent.resync_soon()
    applied = len(firewall.applied)
    agent.poll_once(ctxt)
    assert driver.links[tap]["master"] == "brq" + NET[:11]
    assert driver.fdb["vxlan-77"] == {"192.0.2.3"}
    assert len(firewall.applied) == applied + 1  # a full resync re-applies


def test_restart_rewires_existing_devices_and_reports_them_again() -> None:
    agent, driver, server, _fw = _agent()
    ctxt = context.admin_context()
    server.ports[P1] = _port(P1)
    tap = manager.device_name(P1)
    driver.add_tap(tap)
    agent.poll_once(ctxt)
    server.status.clear()
    again = manager.BridgeAgentManager(agent._conf, server, driver, RecordingFirewall(), "h1")
    again.poll_once(ctxt)
    assert server.status == {tap: "ACTIVE"}


def test_flat_and_vlan_and_mapped_bridges() -> None:
    agent, driver, server, _fw = _agent(
        linux_bridge__physical_interface_mappings=["physnet1:eth9"],
        linux_bridge__bridge_mappings=["public:br-ex"])
    ctxt = context.admin_context()
    driver.links["eth9"] = {"master": None, "up": True, "mtu": 1500, "kind": "phys"}
    driver.links["br-ex"] = {"master": None, "up": True, "mtu": 1500, "kind": "bridge"}
    flat = _port(P1, network_type="flat", physical_network="physnet1",
                 segmentation_id=None, mtu=1500)
    vlan = _port(P2, net=NET2, network_type="vlan", physical_network="physnet1",
                 segmentation_id=42, mtu=1500)
    public = _port("cccccccc-1111-2222-3333-444444444444",
                   net="33333333-2222-3333-4444-555555555555", network_type="flat",
                   physical_network="public", segmentation_id=None)
    for port in (flat, vlan, public):
        server.ports[port["port_id"]] = port
        driver.add_tap(manager.device_name(port["port_id"]))
    agent.poll_once(ctxt)
    assert driver.links["eth9"]["master"] == "brq" + NET[:11]
    assert driver.links["eth9.42"]["master"] == "brq" + NET2[:11]
    assert driver.links[manager.device_name(public["port_id"])]["master"] == "br-ex"
    for port in (flat, vlan, public):
        del driver.links[manager.device_name(port["port_id"])]
    agent.poll_once(ctxt)
    assert "eth9" in driver.links and "br-ex" in driver.links  # never removed
    assert "eth9.42" not in driver.links and "brq" + NET[:11] not in driver.links


def test_unwireable_device_is_skipped_and_retried_at_resync() -> None:
    agent, driver, server, _fw = _agent()
    ctxt = context.admin_context()
    server.ports[P1] = _port(P1, network_type="flat", physical_network="nowhere",
                             segmentation_id=None)
    tap = manager.device_name(P1)
    driver.add_tap(tap)
    agent.poll_once(ctxt)
    assert driver.links[tap]["master"] is None and server.status == {}
    server.ports[P1] = _port(P1)
    agent.poll_once(ctxt)
    assert driver.links[tap]["master"] is None  # not before the next resync
    agent.resync_soon()
    agent.poll_once(ctxt)
    assert driver.links[tap]["master"] == "brq" + NET[:11]


def test_mappings_are_validated() -> None:
    assert bridge_config.parse_mappings(["a:eth0", " b : br1 "], "x") == \
        {"a": "eth0", "b": "br1"}
    for bad in (["noColon"], ["a:"], ["a:x", "a:y"]):
        with pytest.raises(ValueError):
            bridge_config.parse_mappings(bad, "x")


def test_iptables_firewall_removes_stale_chains_and_hooks_forward_once() -> None:
    driver = FakeDriver()
    chains = bridge_firewall.Chains.for_host("h1")
    old = chains.port("i", "old0000000")
    saved = "*filter\n:FORWARD ACCEPT [0:0]\n:%s - [0:0]\n:%s - [0:0]\n-A FORWARD -j %s\n" \
        "COMMIT\n" % (old, chains.top, chains.top)
    driver.iptables_save = lambda ipv6: saved  # type: ignore[method-assign]
    fw = bridge_firewall.IptablesFirewall(driver, chains)
    fw.apply([dict(_port(P1), device=manager.device_name(P1))],
             {"security_groups": {}, "sg_member_ips": {}})
    texts = [c[1] for c in driver.calls if c[0] == "restore"]
    assert len(texts) == 2  # IPv4 and IPv6
    assert "-X %s" % old in texts[0] and "-I FORWARD" not in texts[0]
    fw.remove_all()
    last = [c[1] for c in driver.calls if c[0] == "restore"][-1]
    assert "-D FORWARD -j %s" % chains.top in last and "-X %s" % chains.top in last
