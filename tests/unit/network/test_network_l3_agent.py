"""The L3 agent: what a router namespace should contain (rules) and the
convergence over a fake driver and a fake server."""
from __future__ import annotations

import os
from typing import Any

from oslo_config import cfg

from common import context
from network.agents.l3 import config as l3_config
from network.agents.l3 import manager
from network.agents.l3 import rules
from network.agents.metadata import proxy

ROUTER = "aaaaaaaa-1111-2222-3333-444444444444"
NS = "qrouter-" + ROUTER
IFACE = "bbbbbbbb-1111-2222-3333-444444444444"
IFACE2 = "dddddddd-1111-2222-3333-444444444444"
GW = "cccccccc-1111-2222-3333-444444444444"
NET, NET2, EXT = "11111111-aaaa", "22222222-aaaa", "eeeeeeee-aaaa"


class FakeDriver:
    def __init__(self) -> None:
        self.ns: dict[str, dict[str, tuple[str, str, list[str], str | None]]] = {}
        self.bridges: set[str] = set()
        self.forwarding: set[str] = set()
        self.routes: dict[str, list[tuple[str, str]]] = {}
        self.tables: dict[str, str] = {}
        self.procs: dict[str, tuple[int, str, list[str]]] = {}
        self.arps: list[tuple[str, str, str]] = []
        self.stopped: list[int] = []
        self.down: set[tuple[str, str]] = set()
        self._next = 100

    def namespaces(self) -> list[str]:
        return sorted(self.ns)

    def ensure_namespace(self, ns: str) -> bool:
        created = ns not in self.ns
        self.ns.setdefault(ns, {})
        return created

    def delete_namespace(self, ns: str) -> None:
        self.ns.pop(ns, None)

    def enable_forwarding(self, ns: str) -> None:
        self.forwarding.add(ns)

    def ensure_bridge(self, bridge: str, mtu: int | None) -> None:
        self.bridges.add(bridge)

    def delete_bridge_if_unused(self, bridge: str) -> None:
        used = {v[3] for links in self.ns.values() for v in links.values()}
        if bridge not in used:
            self.bridges.discard(bridge)

    def plug(self, ns: str, inner: str, outer: str, mac: str, cidrs: list[str],
             mtu: int | None, bridge: str | None) -> bool:
        created = inner not in self.ns[ns]
        self.ns[ns][inner] = (outer, mac, list(cidrs), bridge)
        return created

    def links(self, ns: str) -> list[str]:
        return ["lo", *sorted(self.ns.get(ns, {}))]

    def set_link_down(self, ns: str, name: str) -> None:
        self.down.add((ns, name))

    def delete_link(self, name: str, ns: str | None = None) -> None:
        self.ns[ns].pop(name, None)

    def sync_routes(self, ns: str, routes: list[tuple[str, str]]) -> None:
        self.routes[ns] = list(routes)

    def restore_tables(self, ns: str, text: str) -> None:
        self.tables[ns] = text

    def process_pid(self, pid_file: str, marker: str) -> int | None:
        found = self.procs.get(pid_file)
        return found[0] if found else None

    def start_process(self, ns: str, argv: list[str]) -> None:
        pid_file = argv[argv.index("--pid-file") + 1]
        self._next += 1
        self.procs[pid_file] = (self._next, ns, argv)

    def stop_process(self, pid: int) -> None:
        self.stopped.append(pid)
        self.procs = {k: v for k, v in self.procs.items() if v[0] != pid}

    def arping(self, ns: str, dev: str, address: str) -> None:
        self.arps.append((ns, dev, address))


class FakeServer:
    def __init__(self) -> None:
        self.routers: dict[str, dict[str, Any]] = {}
        self.fip_reports: list[tuple[str, dict[str, str]]] = []
        self.port_reports: list[tuple[str, list[str], str]] = []

    def sync_routers(self, ctxt: Any, host: str,
                     router_ids: list[str] | None = None) -> list[dict[str, Any]]:
        return [r for i, r in sorted(self.routers.items())
                if router_ids is None or i in router_ids]

    def update_floatingip_statuses(self, ctxt: Any, router_id: str,
                                   statuses: dict[str, str]) -> None:
        self.fip_reports.append((router_id, dict(statuses)))

    def update_router_ports_status(self, ctxt: Any, router_id: str, port_ids: list[str],
                                   status: str) -> None:
        self.port_reports.append((router_id, list(port_ids), status))


def _port(port_id: str, net: str, ip: str, prefix: int, gateway: str) -> dict[str, Any]:
    return {"id": port_id, "network_id": net, "mac_address": "fa:16:3e:00:00:" + port_id[:2],
            "status": "DOWN", "mtu": 1450 if net != EXT else 1500,
            "fixed_ips": [{"subnet_id": "s-" + net, "ip_address": ip, "prefixlen": prefix}],
            "subnets": [{"id": "s-" + net, "cidr": "%s/%d" % (ip, prefix),
                         "gateway_ip": gateway, "ip_version": 4}]}


def _router(fips: bool = True, snat: bool = True, second: bool = False) -> dict[str, Any]:
    interfaces = [_port(IFACE, NET, "10.0.0.1", 24, "10.0.0.1")]
    if second:
        interfaces.append(_port(IFACE2, NET2, "10.0.1.1", 24, "10.0.1.1"))
    return {"id": ROUTER, "admin_state_up": True, "enable_snat": snat,
            "routes": [{"destination": "192.168.5.0/24", "nexthop": "10.0.0.254"}],
            "gw_port": _port(GW, EXT, "172.24.4.10", 24, "172.24.4.1"),
            "_interfaces": interfaces,
            "_floatingips": [{"id": "fip1", "floating_ip_address": "172.24.4.20",
                              "fixed_ip_address": "10.0.0.5", "port_id": "vm",
                              "status": "DOWN"}] if fips else []}


def _agent(tmp_path: Any, plug: bool = True) -> tuple[manager.L3AgentManager, FakeDriver,
                                                      FakeServer]:
    conf = cfg.ConfigOpts()
    conf.register_opts([cfg.StrOpt("state_path", default=str(tmp_path))])
    l3_config.register_opts(conf)
    conf([], default_config_files=[])
    conf.set_override("state_path", str(tmp_path / "l3"), group="l3")
    conf.set_override("plug_into_bridge", plug, group="l3")
    conf.set_override("python_binary", "/usr/bin/python3", group="l3")
    driver, server = FakeDriver(), FakeServer()
    return manager.L3AgentManager(conf, server, driver, "h1"), driver, server


def test_tables_nat_floating_ips_snat_and_metadata() -> None:
    text = rules.tables(_router(), 9697)
    qg = "qg-cccccccc-11"
    assert text.startswith("*mangle\n") and text.endswith("COMMIT\n")
    assert "-A stratus-mark -i %s -j MARK --set-xmark 0x2/0xffff" % qg in text
    assert ("-A stratus-PREROUTING -d 169.254.169.254/32 -i qr-+ -p tcp -m tcp --dport 80 "
            "-j REDIRECT --to-ports 9697") in text
    assert "-A stratus-PREROUTING -d 172.24.4.20/32 -j DNAT --to-destination 10.0.0.5" in text
    assert "-A stratus-OUTPUT -d 172.24.4.20/32 -j DNAT --to-destination 10.0.0.5" in text
    assert "-A stratus-float-snat -s 10.0.0.5/32 -j SNAT --to-source 172.24.4.20" in text
    assert ("-A stratus-POSTROUTING ! -o %s -m conntrack ! --ctstate DNAT -j ACCEPT" % qg) \
        in text
    assert "-A stratus-snat -o %s -j SNAT --to-source 172.24.4.10" % qg in text
    # The float SNAT comes before the router-wide one.
    assert text.index("-A stratus-snat -j stratus-float-snat") < text.index(
        "-A stratus-snat -o %s" % qg)
    assert rules.tables(_router(), 9697) == text  # deterministic: idempotent restores


def test_tables_without_snat_gateway_or_metadata() -> None:
    text = rules.tables(_router(snat=False), None)
    assert "REDIRECT" not in text and "--to-source 172.24.4.10" not in text
    assert "--to-source 172.24.4.20" in text  # floating IPs still work
    bare = dict(_router(), gw_port=None)
    text = rules.tables(bare, 9697)
    assert "DNAT --to-destination" not in text and "SNAT" not in text
    assert "REDIRECT --to-ports 9697" in text
    assert rules.gateway_cidrs(bare) == [] and rules.floating_ips(bare) == []


def test_routes_and_addresses() -> None:
    router = _router()
    assert rules.routes(router) == [("default", "172.24.4.1"),
                                    ("192.168.5.0/24", "10.0.0.254")]
    assert rules.gateway_cidrs(router) == ["172.24.4.10/24", "172.24.4.20/32"]
    assert rules.port_cidrs(router["_interfaces"][0]) == ["10.0.0.1/24"]
    assert rules.namespace(ROUTER) == NS
    assert (rules.internal_name(IFACE), rules.gateway_name(GW), rules.tap_name(GW)) == \
        ("qr-bbbbbbbb-11", "qg-cccccccc-11", "tapcccccccc-11")


def test_resync_sets_up_the_router_and_is_idempotent(tmp_path: Any) -> None:
    agent, driver, server = _agent(tmp_path)
    ctxt = context.admin_context()
    server.routers[ROUTER] = _router()
    agent.resync_now(ctxt)
    assert NS in driver.forwarding
    links = driver.ns[NS]
    assert links["qr-bbbbbbbb-11"] == ("tapbbbbbbbb-11", "fa:16:3e:00:00:bb",
                                       ["10.0.0.1/24"], "brq11111111-aa")
    assert links["qg-cccccccc-11"] == ("tapcccccccc-11", "fa:16:3e:00:00:cc",
                                       ["172.24.4.10/24", "172.24.4.20/32"], "brqeeeeeeee-aa")
    assert driver.routes[NS][0] == ("default", "172.24.4.1")
    assert "DNAT --to-destination 10.0.0.5" in driver.tables[NS]
    ((pid, ns, argv),) = driver.procs.values()
    assert ns == NS and argv[:3] == ["/usr/bin/python3", "-m", proxy.MARKER]
    assert argv[argv.index("--router-id") + 1] == ROUTER
    assert argv[argv.index("--port") + 1] == "9697"
    assert driver.arps == [(NS, "qg-cccccccc-11", "172.24.4.20")]
    assert server.fip_reports == [(ROUTER, {"fip1": "ACTIVE"})]
    assert server.port_reports == [(ROUTER, [IFACE, GW], "ACTIVE")]
    conf = agent.configurations()
    assert (conf["routers"], conf["interfaces"], conf["floating_ips"]) == (1, 1, 1)

    agent.resync_now(ctxt)  # nothing changed: the proxy is left alone, no new ARP
    assert driver.stopped == [] and len(driver.procs) == 1
    assert driver.arps == [(NS, "qg-cccccccc-11", "172.24.4.20")]

    driver.ns.clear()  # the namespace vanished: the proxy follows it into the new one
    agent.resync_now(ctxt)
    assert driver.stopped == [pid] and len(driver.procs) == 1


def test_interfaces_floating_ips_and_removal(tmp_path: Any) -> None:
    agent, driver, server = _agent(tmp_path)
    ctxt = context.admin_context()
    server.routers[ROUTER] = _router(second=True)
    agent.routers_updated(ctxt, [ROUTER])
    assert "qr-dddddddd-11" in driver.ns[NS] and "brq22222222-aa" in driver.bridges

    server.routers[ROUTER] = _router(fips=False)  # an interface and the floating IP go
    agent.routers_updated(ctxt, [ROUTER])
    assert "qr-dddddddd-11" not in driver.ns[NS]
    assert "brq22222222-aa" not in driver.bridges  # nothing else was plugged there
    assert driver.ns[NS]["qg-cccccccc-11"][2] == ["172.24.4.10/24"]
    assert "--to-destination" not in driver.tables[NS]

    del server.routers[ROUTER]  # no longer hosted here
    agent.routers_updated(ctxt, [ROUTER])
    assert NS not in driver.ns and driver.procs == {}
    assert not os.path.exists(str(tmp_path / "l3" / ROUTER))
    assert driver.bridges == set()
    assert agent.configurations()["routers"] == 0


def test_router_deleted_admin_down_and_stale_routers(tmp_path: Any) -> None:
    agent, driver, server = _agent(tmp_path, plug=False)
    ctxt = context.admin_context()
    server.routers[ROUTER] = _router()
    agent.resync_now(ctxt)
    assert driver.bridges == set() and driver.ns[NS]["qr-bbbbbbbb-11"][3] is None
    assert server.port_reports == []  # the bridge agent reports the ports
    agent.router_deleted(ctxt, ROUTER)
    assert NS not in driver.ns

    down = dict(_router(), admin_state_up=False)
    down["_floatingips"][0]["status"] = "ACTIVE"
    server.routers[ROUTER] = down
    agent.resync_now(ctxt)
    # Administratively down: interfaces wired but down, no gateway, NAT or proxy.
    assert set(driver.ns[NS]) == {"qr-bbbbbbbb-11"} and (NS, "qr-bbbbbbbb-11") in driver.down
    assert "DNAT" not in driver.tables[NS] and "SNAT" not in driver.tables[NS]
    assert server.fip_reports[-1] == (ROUTER, {"fip1": "DOWN"})
    agent.router_deleted(ctxt, ROUTER)
    assert NS not in driver.ns

    # A router this agent set up earlier (state directory) but no longer hosts goes;
    # another agent's namespace (no state directory) stays.
    del server.routers[ROUTER]
    os.makedirs(str(tmp_path / "l3" / "gone"))
    driver.ns["qrouter-gone"] = {}
    driver.ns["qrouter-not-mine"] = {}
    agent.resync_now(ctxt)
    assert "qrouter-gone" not in driver.ns and "qrouter-not-mine" in driver.ns


def test_one_broken_router_does_not_block_the_others(tmp_path: Any) -> None:
    agent, driver, server = _agent(tmp_path)
    broken = dict(_router(), id="broken")
    broken["_interfaces"] = [{"id": "x"}]  # no network: KeyError while plugging
    server.routers = {"broken": broken, ROUTER: _router()}
    agent.resync_now(context.admin_context())
    assert NS in driver.ns
