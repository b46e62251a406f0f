"""stratus-network-l3-agent's RPC endpoint (topic ``l3_agent``, fanout) and its
convergence: one ``qrouter-<router id>`` namespace per hosted router, with its
interfaces, routes, NAT and metadata proxy.

The agent holds no database credentials: it learns its routers from the server
(:class:`network.agents.l3.rpcapi.L3PluginAPI`) at start, every ``[l3]
resync_interval`` and when the server casts ``routers_updated`` /
``router_deleted``; it converges the host to them, removes whatever belongs to
routers it no longer hosts, and reports floating IP (and, when it plugs the
bridges itself, port) statuses back.
"""
from __future__ import annotations

import os
import shutil
import threading
from typing import Any

import oslo_messaging as messaging
from oslo_config import cfg
from oslo_log import log as logging

from common import rpc_service
from network.agents.l3 import driver as l3_driver
from network.agents.l3 import rpcapi
from network.agents.l3 import rules
from network.agents.metadata import proxy

LOG = logging.getLogger(__name__)


def _resync_spacing(conf: cfg.ConfigOpts) -> float:
    return float(conf.l3.resync_interval)


class L3AgentManager:
    """Public methods other than ``resync_now``/``configurations`` are the RPC methods
    the server casts."""

    target = messaging.Target(version=rpcapi.L3AgentAPI.RPC_API_VERSION)

    def __init__(self, conf: cfg.ConfigOpts, plugin_api: Any, driver: l3_driver.Driver,
                 host: str) -> None:
        self._conf = conf
        self._plugin = plugin_api
        self._driver = driver
        self._host = host
        self._lock = threading.Lock()
        self._routers: dict[str, dict[str, Any]] = {}

    # -- RPC ---------------------------------------------------------------------

    def routers_updated(self, ctxt: Any, router_ids: list[str]) -> None:
        """Converge ``router_ids``: set up or update those hosted here, remove the others."""
        routers = self._plugin.sync_routers(ctxt, self._host, router_ids)
        with self._lock:
            for router in routers:
                self._process(ctxt, router)
            hosted = {r["id"] for r in routers}
            for router_id in sorted(set(router_ids) - hosted):
                if self._mine(router_id):
                    self._remove(router_id)

    def router_deleted(self, ctxt: Any, router_id: str) -> None:
        """Remove ``router_id`` if this agent has it."""
        with self._lock:
            if self._mine(router_id):
                self._remove(router_id)

    # -- periodic ----------------------------------------------------------------

    @rpc_service.periodic_task(_resync_spacing, run_immediately=True)
    def _periodic_resync(self, ctxt: Any) -> None:
        self.resync_now(ctxt)

    def resync_now(self, ctxt: Any) -> None:
        """Converge every hosted router, remove every other router of this agent."""
        routers = self._plugin.sync_routers(ctxt, self._host, None)
        with self._lock:
            for router in routers:
                try:
                    self._process(ctxt, router)
                except Exception:  # one broken router must not block the others
                    LOG.exception("Could not set up router %s", router["id"])
            wanted = {r["id"] for r in routers}
            # Only routers this agent set up (it has their state directory): another
            # agent's namespaces on the same host (a test cloud) are not ours to remove.
            mine = set(self._routers) | set(self._state_dirs())
            for router_id in sorted(mine - wanted):
                try:
                    self._remove(router_id)
                except Exception:
                    LOG.exception("Could not remove router %s", router_id)

    def configurations(self) -> dict[str, Any]:
        """What the heartbeat reports."""
        routers = list(self._routers.values())
        return {"routers": len(routers),
                "interfaces": sum(len(r.get("_interfaces", [])) for r in routers),
                "floating_ips": sum(len(rules.floating_ips(r)) for r in routers),
                "ex_gw_ports": sum(1 for r in routers if r.get("gw_port")),
                "gateway_external_network_id": "",
                "external_network_bridge": self._conf.l3.external_bridge,
                "handle_internal_only_routers": True, "agent_mode": "legacy",
                "plug_into_bridge": self._conf.l3.plug_into_bridge,
                "metadata_proxy": self._conf.l3.enable_metadata_proxy}

    # -- convergence -------------------------------------------------------------

    def _state_dirs(self) -> list[str]:
        try:
            return os.listdir(self._conf.l3.state_path)
        except FileNotFoundError:
            return []

    def _dir(self, router_id: str) -> str:
        return os.path.join(self._conf.l3.state_path, router_id)

    def _mine(self, router_id: str) -> bool:
        return router_id in self._routers or os.path.isdir(self._dir(router_id))

    def _process(self, ctxt: Any, router: dict[str, Any]) -> None:
        if not router.get("admin_state_up", True):
            # Administratively down: its ports stay wired (the bridge agent reports
            # them, as on Neutron) but nothing passes: no gateway, NAT, routes or
            # metadata, and its interfaces are down inside the namespace.
            self._converge(dict(router, gw_port=None, _floatingips=[], routes=[]),
                           down=True)
            self._report_fips(ctxt, router, set())
            return
        self._converge(router)
        self._report_fips(ctxt, router, {f["id"] for f in rules.floating_ips(router)})
        if self._conf.l3.plug_into_bridge:
            self._report_ports(ctxt, router)

    def _bridge(self, network_id: str, external: bool, mtu: int | None) -> str | None:
        if not self._conf.l3.plug_into_bridge:
            return None
        if external and self._conf.l3.external_bridge:
            bridge = str(self._conf.l3.external_bridge)
            self._driver.ensure_bridge(bridge, None)
        else:
            bridge = rules.bridge_name(network_id)
            self._driver.ensure_bridge(bridge, mtu)
        return bridge

    def _converge(self, router: dict[str, Any], down: bool = False) -> None:
        router_id = router["id"]
        ns = rules.namespace(router_id)
        os.makedirs(self._dir(router_id), exist_ok=True)
        fresh = self._driver.ensure_namespace(ns)
        self._driver.enable_forwarding(ns)
        wanted: set[str] = set()
        for port in router.get("_interfaces", []):
            if not port.get("fixed_ips"):
                continue
            inner = rules.internal_name(port["id"])
            mtu = port.get("mtu") or None
            self._driver.plug(ns, inner, rules.tap_name(port["id"]), port["mac_address"],
                              rules.port_cidrs(port), mtu,
                              self._bridge(port["network_id"], False, mtu))
            wanted.add(inner)
        gw = router.get("gw_port")
        if gw:
            inner = rules.gateway_name(gw["id"])
            mtu = gw.get("mtu") or None
            self._driver.plug(ns, inner, rules.tap_name(gw["id"]), gw["mac_address"],
                              rules.gateway_cidrs(router), mtu,
                              self._bridge(gw["network_id"], True, mtu))
            wanted.add(inner)
        for link in self._driver.links(ns):
            if link.startswith(("qr-", "qg-")) and link not in wanted:
                self._driver.delete_link(link, ns)
        self._drop_bridges(self._routers.get(router_id) or {}, router)
        for link in sorted(wanted) if down else []:
            self._driver.set_link_down(ns, link)
        self._driver.sync_routes(ns, rules.routes(router))
        metadata = self._conf.l3.enable_metadata_proxy and not down
        self._driver.restore_tables(
            ns, rules.tables(router, int(self._conf.l3.metadata_port) if metadata else None))
        if metadata:
            self._ensure_proxy(router_id, ns, restart=fresh)
        else:
            self._stop_proxy(router_id)
        if gw:
            before = self._routers.get(router_id) or {}
            had = {f["floating_ip_address"] for f in rules.floating_ips(before)}
            for fip in rules.floating_ips(router):
                if fip["floating_ip_address"] not in had:
                    self._driver.arping(ns, rules.gateway_name(gw["id"]),
                                        fip["floating_ip_address"])
        if fresh or router_id not in self._routers:
            LOG.info("Router %(id)s set up in %(ns)s", {"id": router_id, "ns": ns})
        self._routers[router_id] = router

    def _ensure_proxy(self, router_id: str, ns: str, restart: bool) -> None:
        if proxy.ensure(self._driver, self._dir(router_id), ns, self._conf.l3.python_binary,
                        self._conf.metadata.metadata_proxy_socket,
                        ["--router-id", router_id, "--port", str(self._conf.l3.metadata_port)],
                        restart):
            LOG.info("Metadata proxy of router %s started", router_id)

    def _stop_proxy(self, router_id: str) -> None:
        proxy.stop(self._driver, self._dir(router_id))

    def _remove(self, router_id: str) -> None:
        ns = rules.namespace(router_id)
        self._stop_proxy(router_id)
        known = self._routers.get(router_id) or {}
        if ns in self._driver.namespaces():
            # Explicitly: a namespace still held by a process would keep its devices.
            for link in self._driver.links(ns):
                if link.startswith(("qr-", "qg-")):
                    self._driver.delete_link(link, ns)
            self._driver.delete_namespace(ns)
        self._drop_bridges(known, {})
        shutil.rmtree(self._dir(router_id), ignore_errors=True)
        self._routers.pop(router_id, None)
        LOG.info("Removed router %s", router_id)

    def _drop_bridges(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        """With plug_into_bridge: delete the bridges of the networks the router left,
        when nothing else is plugged into them (guests, DHCP ports, other routers)."""
        if not self._conf.l3.plug_into_bridge:
            return

        def networks(router: dict[str, Any]) -> set[str]:
            nets = {p["network_id"] for p in router.get("_interfaces", [])}
            if router.get("gw_port") and not self._conf.l3.external_bridge:
                nets.add(router["gw_port"]["network_id"])
            return nets
        for network_id in sorted(networks(before) - networks(after)):
            self._driver.delete_bridge_if_unused(rules.bridge_name(network_id))

    # -- statuses ----------------------------------------------------------------

    def _report_fips(self, ctxt: Any, router: dict[str, Any], active: set[str]) -> None:
        changed = {}
        for fip in router.get("_floatingips", []):
            status = "ACTIVE" if fip["id"] in active else "DOWN"
            if fip.get("status") != status:
                changed[fip["id"]] = status
        if changed:
            try:
                self._plugin.update_floatingip_statuses(ctxt, router["id"], changed)
            except Exception:  # the next resync reports again
                LOG.exception("Could not report floating IP statuses of router %s",
                              router["id"])

    def _report_ports(self, ctxt: Any, router: dict[str, Any]) -> None:
        ports = list(router.get("_interfaces", []))
        if router.get("gw_port"):
            ports.append(router["gw_port"])
        down = [p["id"] for p in ports if p.get("status") != "ACTIVE"]
        if down:
            try:
                self._plugin.update_router_ports_status(ctxt, router["id"], down, "ACTIVE")
            except Exception:  # the next resync reports again
                LOG.exception("Could not report the ports of router %s", router["id"])
