"""stratus-network-dhcp-agent's RPC endpoint (topic ``dhcp_agent``, fanout) and its
convergence: one namespace, one DHCP port and one dnsmasq per served network.

The agent holds no database credentials: it learns its networks from the server
(``network.rpcapi.PluginAPI``) at start, every ``[dhcp] resync_interval`` and
when the server casts ``network_changed``; then it converges the host to them
and removes whatever belongs to networks it no longer serves.
"""
from __future__ import annotations

import os
import shutil
import sys
import threading
from typing import Any

import oslo_messaging as messaging
from oslo_config import cfg
from oslo_log import log as logging

from common import rpc_service
from network.agents.dhcp import driver as dhcp_driver
from network.agents.dhcp import dnsmasq
from network.agents.dhcp import rpcapi
from network.agents.metadata import proxy

LOG = logging.getLogger(__name__)
METADATA_ADDRESS = dnsmasq.METADATA_CIDR.split("/")[0]


def namespace(network_id: str) -> str:
    return dhcp_driver.NS_PREFIX + network_id


def bridge_name(network_id: str) -> str:
    return "brq" + network_id[:11]


def inner_name(port_id: str) -> str:
    """The DHCP port's end inside ``qdhcp-<network id>`` (dnsmasq binds to it)."""
    return "ns-" + port_id[:11]


def outer_name(port_id: str) -> str:
    """The end in the main namespace: named like any port's device, so the bridge
    agent plugs it into the network's bridge (``bridge_mode = none``)."""
    return "tap" + port_id[:11]


def _resync_spacing(conf: cfg.ConfigOpts) -> float:
    return float(conf.dhcp.resync_interval)


class DhcpAgentManager:
    """Public methods are the RPC methods the server casts."""

    target = messaging.Target(version=rpcapi.DhcpAgentAPI.RPC_API_VERSION)

    def __init__(self, conf: cfg.ConfigOpts, plugin_api: Any, driver: dhcp_driver.Driver,
                 host: str) -> None:
        self._conf = conf
        self._plugin = plugin_api
        self._driver = driver
        self._host = host
        self._lock = threading.Lock()
        self._served: dict[str, dnsmasq.Config] = {}
        self._queued_lock = threading.Lock()
        self._queued: set[str] = set()

    # -- RPC ---------------------------------------------------------------------

    def network_changed(self, ctxt: Any, network_id: str) -> None:
        """Converge ``network_id`` (set it up, update it, or remove it).

        Notifications coalesce: while one for a network waits for its turn, more
        for the same network are dropped (that pass reads the state after them).
        """
        with self._queued_lock:
            if network_id in self._queued:
                return
            self._queued.add(network_id)
        with self._lock:
            with self._queued_lock:
                self._queued.discard(network_id)
            info = self._plugin.get_network_info(ctxt, network_id, self._host)
            if info is None:
                if network_id in self._served or network_id in self._state_dirs():
                    self._remove(network_id)
            else:
                self._converge(info)

    # -- periodic ----------------------------------------------------------------

    @rpc_service.periodic_task(_resync_spacing, run_immediately=True)
    def _periodic_resync(self, ctxt: Any) -> None:
        self.resync_now(ctxt)

    def resync_now(self, ctxt: Any) -> None:
        """Converge every served network, remove every other ``qdhcp-`` namespace."""
        networks = self._plugin.get_active_networks_info(ctxt, self._host)
        with self._lock:
            wanted = {net["id"] for net in networks}
            for net in networks:
                try:
                    self._converge(net)
                except Exception:  # one broken network must not block the others
                    LOG.exception("Could not set up DHCP for network %s", net["id"])
            # Only namespaces this agent made (it has their state directory): another
            # agent's on the same host (a test cloud) is not ours to remove.
            present = {ns[len(dhcp_driver.NS_PREFIX):] for ns in self._driver.namespaces()
                       if ns.startswith(dhcp_driver.NS_PREFIX)}
            mine = present & set(self._state_dirs())
            for net_id in sorted((mine | set(self._served)) - wanted):
                try:
                    self._remove(net_id)
                except Exception:
                    LOG.exception("Could not remove DHCP for network %s", net_id)

    def configurations(self) -> dict[str, Any]:
        """What the heartbeat reports."""
        return {"networks": len(self._served),
                "ports": sum(c.hosts.count("\n") for c in self._served.values()),
                "bridge_mode": self._conf.dhcp.bridge_mode,
                "dhcp_driver": "dnsmasq"}

    # -- convergence -------------------------------------------------------------

    def _state_dirs(self) -> list[str]:
        try:
            return os.listdir(self._conf.dhcp.state_path)
        except FileNotFoundError:
            return []

    def _dir(self, network_id: str) -> str:
        return os.path.join(self._conf.dhcp.state_path, network_id)

    def _converge(self, net: dict[str, Any]) -> None:
        net_id = net["id"]
        port = net["dhcp_port"]
        ns = namespace(net_id)
        inner = inner_name(port["id"])
        standalone = self._conf.dhcp.bridge_mode == "standalone"
        bridge = bridge_name(net_id) if standalone else None
        mtu = net.get("mtu") or None
        # A new namespace or interface: a running dnsmasq is bound to the old one.
        rewired = self._driver.ensure_namespace(ns)
        if bridge:
            self._driver.ensure_bridge(bridge, mtu)
        metadata = dnsmasq.metadata_subnets(net, self._conf.dhcp.enable_isolated_metadata,
                                            self._conf.dhcp.force_metadata)
        cidrs = dnsmasq.port_cidrs(net) + ([dnsmasq.METADATA_CIDR] if metadata else [])
        rewired = self._driver.plug(ns, inner, outer_name(port["id"]), port["mac_address"],
                                    cidrs, mtu, bridge) or rewired
        directory = self._dir(net_id)
        os.makedirs(directory, exist_ok=True)
        # dnsmasq drops to "nobody" after start: it must still read its files.
        for path in (self._conf.dhcp.state_path, directory):
            os.chmod(path, 0o755)
        config = dnsmasq.render(net, directory, inner, self._conf.dhcp.dnsmasq_binary,
                                self._conf.dhcp.lease_time, metadata)
        self._write(directory, "host", config.hosts)
        self._write(directory, "opts", config.opts)
        pid = self._driver.process_pid(os.path.join(directory, "pid"), "dnsmasq")
        previous = self._served.get(net_id)
        if pid is not None and not rewired and previous is not None and \
                previous.argv == config.argv:
            leases = os.path.join(directory, "leases")
            if dnsmasq.has_stale_leases(leases, config.hosts):
                # A deleted port's lease would keep its address from a new port:
                # dnsmasq reads leases only at start, so restart it without them.
                self._driver.stop_process(pid)
                dnsmasq.prune_leases(leases, config.hosts)
                self._driver.start_process(ns, config.argv)
                LOG.info("Restarted dnsmasq of network %s without stale leases", net_id)
            elif previous != config:
                self._driver.reload_dnsmasq(pid)
                LOG.info("Reloaded dnsmasq of network %s", net_id)
        else:
            if pid is not None:
                self._driver.stop_process(pid)
            dnsmasq.prune_leases(os.path.join(directory, "leases"), config.hosts)
            self._driver.start_process(ns, config.argv)
            LOG.info("dnsmasq serving network %s", net_id)
        self._served[net_id] = config
        if metadata:
            if proxy.ensure(self._driver, directory, ns, sys.executable,
                            self._conf.metadata.metadata_proxy_socket,
                            ["--network-id", net_id, "--bind", METADATA_ADDRESS,
                             "--port", "80"], restart=rewired):
                LOG.info("Metadata proxy of network %s started", net_id)
        else:
            proxy.stop(self._driver, directory)

    @staticmethod
    def _write(directory: str, name: str, text: str) -> None:
        path = os.path.join(directory, name)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)

    def _remove(self, net_id: str) -> None:
        directory = self._dir(net_id)
        proxy.stop(self._driver, directory)
        pid = self._driver.process_pid(os.path.join(directory, "pid"), "dnsmasq")
        if pid is not None:
            self._driver.stop_process(pid)
        # Deleting the namespace destroys the veth pair (both ends) with it.
        self._driver.delete_namespace(namespace(net_id))
        if self._conf.dhcp.bridge_mode == "standalone":
            self._driver.delete_bridge(bridge_name(net_id))
        shutil.rmtree(directory, ignore_errors=True)
        self._served.pop(net_id, None)
        LOG.info("Removed DHCP for network %s", net_id)
