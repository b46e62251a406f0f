"""Every privileged action of the bridge agent: bridges, VXLAN/VLAN uplinks,
plugging taps, the VXLAN flooding entries and iptables-restore.

The agent runs as root; this is the one module that changes the system (through
iproute2's ``ip`` and ``bridge`` and iptables-restore), so a later privsep split
only has to move it. :class:`Driver` is what the manager and the firewall need;
the unit tests give a fake one.
"""
from __future__ import annotations

from typing import Protocol

from oslo_log import log as logging

from network.agents import linux

LOG = logging.getLogger(__name__)

FLOOD_MAC = "00:00:00:00:00:00"


class Driver(Protocol):

    def devices(self, prefix: str) -> dict[str, str | None]:
        """Links of the main namespace named ``prefix*``: name -> master (or None)."""
        ...

    def link_exists(self, name: str) -> bool: ...

    def ensure_bridge(self, name: str, mtu: int | None) -> bool:
        """:returns: whether the bridge had to be created."""
        ...

    def bridge_ports(self, bridge: str) -> list[str]: ...

    def ensure_vxlan(self, name: str, vni: int, local_ip: str, port: int,
                     ttl: int | None, mtu: int | None) -> None: ...

    def ensure_vlan(self, parent: str, vlan_id: int, mtu: int | None) -> str:
        """:returns: the sub-interface's name (``<parent>.<vlan id>``)."""
        ...

    def delete_link(self, name: str, ns: str | None = None) -> None: ...

    def plug(self, dev: str, bridge: str, mtu: int | None, up: bool) -> None:
        """Enslave ``dev`` to ``bridge`` (when it is not already), set its MTU and
        state."""
        ...

    def flood_destinations(self, dev: str) -> set[str]: ...

    def add_flood_destination(self, dev: str, dst: str) -> None: ...

    def remove_flood_destination(self, dev: str, dst: str) -> None: ...

    def iptables_save(self, ipv6: bool) -> str:
        """The filter table as iptables-save prints it."""
        ...

    def iptables_restore(self, ipv6: bool, text: str) -> None:
        """Apply ``text`` atomically without flushing what it does not name."""
        ...


class IpDriver(linux.IpCommand):
    """:class:`Driver` over ``ip``, ``bridge`` and ``iptables-restore``."""

    def __init__(self, ip_binary: str = "ip", bridge_binary: str = "bridge",
                 iptables_restore: str = "iptables-restore") -> None:
        super().__init__(ip_binary)
        self._bridge = bridge_binary
        self._restore = iptables_restore

    def devices(self, prefix: str) -> dict[str, str | None]:
        return {link["ifname"]: link.get("master") for link in self._links()
                if str(link.get("ifname", "")).startswith(prefix)}

    def bridge_ports(self, bridge: str) -> list[str]:
        return sorted(str(link["ifname"]) for link in self._links("master", bridge))

    def ensure_vxlan(self, name: str, vni: int, local_ip: str, port: int,
                     ttl: int | None, mtu: int | None) -> None:
        if not self.link_exists(name):
            ttl_args = ["ttl", str(ttl)] if ttl else []
            self._run("link", "add", name, "type", "vxlan", "id", str(vni), "local",
                      local_ip, "dstport", str(port), *ttl_args)
            LOG.info("Created VXLAN device %(name)s (VNI %(vni)d, local %(ip)s)",
                     {"name": name, "vni": vni, "ip": local_ip})
        if mtu:
            self._run("link", "set", name, "mtu", str(mtu))

    def ensure_vlan(self, parent: str, vlan_id: int, mtu: int | None) -> str:
        name = "%s.%d" % (parent, vlan_id)
        if not self.link_exists(name):
            self._run("link", "add", "link", parent, "name", name, "type", "vlan", "id",
                      str(vlan_id))
            LOG.info("Created VLAN interface %s", name)
        if mtu:
            self._run("link", "set", name, "mtu", str(mtu))
        return name

    def plug(self, dev: str, bridge: str, mtu: int | None, up: bool) -> None:
        links = self._links("dev", dev)
        if not links:
            raise RuntimeError("device %s does not exist" % dev)
        if links[0].get("master") != bridge:
            self._run("link", "set", dev, "master", bridge)
            LOG.info("Plugged %(dev)s into %(bridge)s", {"dev": dev, "bridge": bridge})
        if mtu and links[0].get("mtu") != mtu:
            self._run("link", "set", dev, "mtu", str(mtu))
        self._run("link", "set", dev, "up" if up else "down")

    def flood_destinations(self, dev: str) -> set[str]:
        out = linux.execute([self._bridge, "fdb", "show", "dev", dev], check=False).stdout
        found = set()
        for line in out.splitlines():
            words = line.split()
            if words and words[0] == FLOOD_MAC and "dst" in words:
                found.add(words[words.index("dst") + 1])
        return found

    def add_flood_destination(self, dev: str, dst: str) -> None:
        linux.execute([self._bridge, "fdb", "append", FLOOD_MAC, "dev", dev, "dst", dst])

    def remove_flood_destination(self, dev: str, dst: str) -> None:
        linux.execute([self._bridge, "fdb", "del", FLOOD_MAC, "dev", dev, "dst", dst],
                   check=False)

    def _family(self, binary: str, ipv6: bool) -> str:
        return binary.replace("iptables", "ip6tables") if ipv6 else binary

    def iptables_save(self, ipv6: bool) -> str:
        save = self._family(self._restore.replace("-restore", "-save"), ipv6)
        return linux.execute([save, "-t", "filter"]).stdout

    def iptables_restore(self, ipv6: bool, text: str) -> None:
        linux.execute([self._family(self._restore, ipv6), "-w", "--noflush"], stdin=text)
