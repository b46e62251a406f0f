"""stratus-network-bridge-agent's RPC endpoint (topic ``bridge_agent``, fanout) and
its convergence loop.

Every ``[agent] polling_interval`` the agent lists the ``tap*`` devices of the
main namespace. New ones (and ones the server said changed) are described by the
server (``plugin_api``), plugged into their network's bridge, filtered, and
reported up; removed ones are reported down and unfiltered. Every
``[agent] resync_interval`` (and at start) every device is re-read and re-applied
and the VXLAN flooding entries follow the live peers. A bridge the agent made is
removed with its VXLAN or VLAN uplink once no device is left in it.

The RPC methods only record what changed; the loop does the work, so a burst of
notifications costs one pass.
"""
from __future__ import annotations

import dataclasses
import json
import threading
import time
from typing import Any

import oslo_messaging as messaging
from oslo_config import cfg
from oslo_log import log as logging

from common import rpc_service
from network.agents.bridge import config as bridge_config
from network.agents.bridge import driver as bridge_driver
from network.agents.bridge import firewall as bridge_firewall
from network.agents.bridge import rpcapi

LOG = logging.getLogger(__name__)

DEVICE_PREFIX = "tap"
BRIDGE_PREFIX = "brq"


def device_name(port_id: str) -> str:
    return DEVICE_PREFIX + port_id[:11]


def bridge_name(network_id: str) -> str:
    return BRIDGE_PREFIX + network_id[:11]


def vxlan_name(vni: int) -> str:
    return "vxlan-%d" % vni


@dataclasses.dataclass
class NetworkWiring:
    """How one network is wired on this host."""

    bridge: str
    uplink: str | None
    owns_bridge: bool  # brq…: made (and removed) by the agent; a mapped bridge is not
    owns_uplink: bool  # a vxlan-N or VLAN sub-interface; never a mapped interface
    vxlan: bool


def _polling(conf: cfg.ConfigOpts) -> float:
    return float(conf.agent.polling_interval)


class BridgeAgentManager:
    """Public methods are the RPC methods the server casts."""

    target = messaging.Target(version=rpcapi.BridgeAgentAPI.RPC_API_VERSION)

    def __init__(self, conf: cfg.ConfigOpts, plugin_api: Any, driver: bridge_driver.Driver,
                 firewall: bridge_firewall.Firewall, host: str) -> None:
        self._conf = conf
        self._plugin = plugin_api
        self._driver = driver
        self._firewall = firewall
        self._host = host
        self.interface_mappings = bridge_config.parse_mappings(
            conf.linux_bridge.physical_interface_mappings, "physical_interface_mappings")
        self.bridge_mappings = bridge_config.parse_mappings(
            conf.linux_bridge.bridge_mappings, "bridge_mappings")
        self._run_lock = threading.Lock()
        self._flags_lock = threading.Lock()
        # Guarded by _run_lock.
        self._devices: dict[str, dict[str, Any]] = {}
        self._unknown: set[str] = set()
        self._networks: dict[str, NetworkWiring] = {}
        self._peers: list[str] = []
        self._sg_info: dict[str, Any] = {}
        self._applied: str | None = None
        self._last_full = 0.0
        # Guarded by _flags_lock: what RPC casts asked for.
        self._full = True
        self._updated: set[str] = set()
        self._sg_dirty = False

    # -- RPC ---------------------------------------------------------------------

    def port_update(self, ctxt: Any, port_id: str) -> None:
        """Re-read the port (admin state, addresses, groups, pairs) if it is here."""
        with self._flags_lock:
            self._updated.add(device_name(port_id))

    def port_delete(self, ctxt: Any, port_id: str) -> None:
        """The port is gone: the re-read finds no port and stops filtering it."""
        with self._flags_lock:
            self._updated.add(device_name(port_id))

    def network_delete(self, ctxt: Any, network_id: str) -> None:
        """Remove the network's bridge now if no device is left in it."""
        with self._run_lock:
            if network_id in self._networks and not self._in_use(network_id):
                self._unwire(network_id)

    def security_groups_rule_updated(self, ctxt: Any, security_groups: list[str]) -> None:
        """Refresh the firewall if one of our ports is in one of these groups."""
        groups = set(security_groups)
        if any(groups & set(d.get("security_groups", []))
               for d in list(self._devices.values())):
            with self._flags_lock:
                self._sg_dirty = True

    def security_groups_member_updated(self, ctxt: Any, security_groups: list[str]) -> None:
        """Refresh the firewall if one of our ports' rules names one of these groups
        as remote group (or one of our ports is in one: a new port may be ours)."""
        groups = set(security_groups)
        remote = set(self._sg_info.get("sg_member_ips", {}))
        mine = {g for d in list(self._devices.values()) for g in d.get("security_groups", [])}
        if groups & (remote | mine):
            with self._flags_lock:
                self._sg_dirty = True

    # -- periodic ----------------------------------------------------------------

    @rpc_service.periodic_task(_polling, run_immediately=True)
    def _periodic_poll(self, ctxt: Any) -> None:
        self.poll_once(ctxt)

    def resync_soon(self) -> None:
        """Make the next pass a full resync."""
        with self._flags_lock:
            self._full = True

    def poll_once(self, ctxt: Any) -> None:
        """One pass of the loop; a failure makes the next pass a full resync."""
        with self._run_lock:
            try:
                self._poll(ctxt)
            except Exception:
                self.resync_soon()
                raise

    def configurations(self) -> dict[str, Any]:
        """What the heartbeat reports."""
        vxlan = self._conf.vxlan.enable_vxlan and bool(self._conf.vxlan.local_ip)
        return {"interface_mappings": dict(self.interface_mappings),
                "bridge_mappings": dict(self.bridge_mappings),
                "tunneling_ip": self._conf.vxlan.local_ip if vxlan else None,
                "tunnel_types": ["vxlan"] if vxlan else [],
                "devices": len(self._devices)}

    # -- the loop ----------------------------------------------------------------

    def _poll(self, ctxt: Any) -> None:
        interval = float(self._conf.agent.resync_interval)
        now = time.monotonic()
        with self._flags_lock:
            full = self._full or (interval > 0 and now - self._last_full >= interval)
            updated, self._updated = self._updated, set()
            sg_dirty, self._sg_dirty = self._sg_dirty, False
            self._full = False
        current = set(self._driver.devices(DEVICE_PREFIX))
        known = set(self._devices) | self._unknown
        removed = known - current
        todo = current if full else (current - known) | (updated & current)
        if full:
            self._refresh_peers(ctxt)
        described = self._describe(ctxt, sorted(todo)) if todo else []
        self._unknown -= removed
        gone = sorted(removed & set(self._devices))
        for dev in gone:
            self._devices.pop(dev)
        # Filters first: a device is never forwarding unfiltered.
        if full or todo or gone or sg_dirty:
            self._apply_firewall(ctxt, force=full)
        for dev in described:
            up = self._wire(dev)
            if up is not None:
                self._report(ctxt, dev, up)
        for dev in gone:
            LOG.info("Device %s removed", dev)
            self._report(ctxt, dev, False)
        self._cleanup()
        if full:
            self._last_full = now
        LOG.debug("Pass done: %(n)d devices (%(t)d treated, %(g)d removed, full %(f)s)",
                  {"n": len(self._devices), "t": len(todo), "g": len(gone), "f": full})

    def _describe(self, ctxt: Any, devices: list[str]) -> list[str]:
        """Ask the server about ``devices``; :returns: those that are ports."""
        found = []
        for info in self._plugin.get_devices_details_list(ctxt, devices, self._host):
            dev = info["device"]
            if not info.get("port_id"):
                if dev not in self._unknown:
                    LOG.debug("Device %s is no port known to the server", dev)
                self._unknown.add(dev)
                self._devices.pop(dev, None)
                continue
            self._unknown.discard(dev)
            self._devices[dev] = info
            found.append(dev)
        return found

    def _wire(self, dev: str) -> bool | None:
        """Plug ``dev`` into its network's bridge; :returns: whether it is up, None
        when it could not be wired (retried at the next resync)."""
        info = self._devices[dev]
        try:
            bridge = self._wire_network(info)
            up = bool(info.get("admin_state_up", True))
            self._driver.plug(dev, bridge, info.get("mtu") or None, up)
        except Exception:
            LOG.exception("Could not wire device %s; retrying at the next resync", dev)
            self._devices.pop(dev, None)
            self._unknown.add(dev)
            return None
        if info.get("status") != ("ACTIVE" if up else "DOWN"):
            LOG.info("Device %(dev)s of port %(port)s in %(bridge)s, %(state)s",
                     {"dev": dev, "port": info["port_id"], "bridge": bridge,
                      "state": "up" if up else "down"})
        return up

    def _report(self, ctxt: Any, dev: str, up: bool) -> None:
        try:
            if up:
                self._plugin.update_device_up(ctxt, dev, self._host)
            else:
                self._plugin.update_device_down(ctxt, dev, self._host)
        except Exception:
            LOG.exception("Could not report device %s; retrying at the next resync", dev)
            self.resync_soon()

    def _apply_firewall(self, ctxt: Any, force: bool) -> None:
        ports = list(self._devices.values())
        guarded = [p["port_id"] for p in ports if bridge_firewall.filtered(p)]
        self._sg_info = self._plugin.security_group_info_for_devices(ctxt, guarded) \
            if guarded else {}
        state = json.dumps([sorted(ports, key=lambda p: p["device"]), self._sg_info],
                           sort_keys=True, default=str)
        if state == self._applied and not force:
            return
        self._firewall.apply(ports, self._sg_info)
        self._applied = state

    # -- networks ----------------------------------------------------------------

    def _wire_network(self, info: dict[str, Any]) -> str:
        """Ensure the network's bridge and uplink; :returns: the bridge's name.

        :raises: ValueError when this host cannot wire the network type/physnet.
        """
        net_id = info["network_id"]
        ntype = info.get("network_type") or "local"
        physnet = info.get("physical_network")
        seg = int(info["segmentation_id"]) if info.get("segmentation_id") is not None \
            else None
        mtu = info.get("mtu") or None
        if ntype == "flat" and physnet in self.bridge_mappings:
            bridge = self.bridge_mappings[physnet]
            if not self._driver.link_exists(bridge):
                raise ValueError("mapped bridge %s of %s does not exist" % (bridge, physnet))
            self._networks[net_id] = NetworkWiring(bridge, None, False, False, False)
            return bridge
        bridge = bridge_name(net_id)
        wiring = NetworkWiring(bridge, None, True, False, False)
        if ntype == "vxlan":
            local_ip = self._conf.vxlan.local_ip
            if not (self._conf.vxlan.enable_vxlan and local_ip):
                raise ValueError("VXLAN network %s but [vxlan] is disabled or has no "
                                 "local_ip" % net_id)
            if seg is None:
                raise ValueError("VXLAN network %s has no VNI" % net_id)
            wiring = NetworkWiring(bridge, vxlan_name(seg), True, True, True)
            self._driver.ensure_vxlan(vxlan_name(seg), seg, local_ip,
                                      int(self._conf.vxlan.udp_port), self._conf.vxlan.ttl,
                                      mtu)
        elif ntype in ("flat", "vlan"):
            if physnet not in self.interface_mappings:
                raise ValueError("no interface mapped for physical network %s" % physnet)
            iface = self.interface_mappings[physnet]
            if ntype == "vlan":
                if seg is None:
                    raise ValueError("VLAN network %s has no VLAN id" % net_id)
                wiring.uplink = self._driver.ensure_vlan(iface, seg, mtu)
                wiring.owns_uplink = True
            else:
                wiring.uplink = iface
        elif ntype != "local":
            raise ValueError("network type %s is not supported by this agent" % ntype)
        self._driver.ensure_bridge(bridge, mtu)
        if wiring.uplink:
            self._driver.plug(wiring.uplink, bridge, mtu if wiring.owns_uplink else None,
                              True)
        if wiring.vxlan and wiring.uplink:
            self._sync_flooding(wiring.uplink)
        self._networks[net_id] = wiring
        return bridge

    def _refresh_peers(self, ctxt: Any) -> None:
        if not (self._conf.vxlan.enable_vxlan and self._conf.vxlan.local_ip):
            return
        peers = sorted(set(self._plugin.get_tunnel_peers(ctxt, self._host))
                       - {self._conf.vxlan.local_ip})
        if peers != self._peers:
            LOG.info("VXLAN peers: %s", ", ".join(peers) or "none")
        self._peers = peers
        for wiring in self._networks.values():
            if wiring.vxlan and wiring.uplink:
                self._sync_flooding(wiring.uplink)

    def _sync_flooding(self, dev: str) -> None:
        have = self._driver.flood_destinations(dev)
        for peer in sorted(set(self._peers) - have):
            self._driver.add_flood_destination(dev, peer)
        for peer in sorted(have - set(self._peers)):
            self._driver.remove_flood_destination(dev, peer)

    def _in_use(self, net_id: str) -> bool:
        return any(d["network_id"] == net_id for d in self._devices.values())

    def _cleanup(self) -> None:
        for net_id in sorted(self._networks):
            if not self._in_use(net_id):
                try:
                    self._unwire(net_id)
                except Exception:
                    LOG.exception("Could not remove the bridge of network %s", net_id)

    def _unwire(self, net_id: str) -> None:
        """Forget the network; remove its bridge and uplink when the agent made them
        and nothing else is plugged in."""
        wiring = self._networks[net_id]
        if wiring.owns_bridge:
            others = [p for p in self._driver.bridge_ports(wiring.bridge)
                      if p != wiring.uplink]
            if others:
                LOG.debug("Bridge %(b)s still has %(p)s", {"b": wiring.bridge, "p": others})
                return
            self._driver.delete_link(wiring.bridge)
            if wiring.uplink and wiring.owns_uplink:
                self._driver.delete_link(wiring.uplink)
            LOG.info("Removed bridge %(b)s of network %(net)s",
                     {"b": wiring.bridge, "net": net_id})
        del self._networks[net_id]
