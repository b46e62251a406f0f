"""What the L2 (Linux bridge) agents ask the server: their devices' details, the
port status they observe, security group rules and members, tunnel peers.

A device is the agent's name for a port: ``tap<port id[:11]>`` (a full port id is
accepted too). A port's status changes only through :meth:`L2.set_port_status`.
"""
from __future__ import annotations

import datetime
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.db import models as base_models
from network import exception
from network.agents.bridge import plugin_api
from network.db import models
from network.plugin import base

AGENT_TYPE = plugin_api.AGENT_TYPE
DEVICE_PREFIX = "tap"
ACTIVE = "ACTIVE"
DOWN = "DOWN"


def port_prefix(device: str) -> str:
    """The port id prefix a device names (``tap1234abcd-56`` -> ``1234abcd-56``)."""
    return device[len(DEVICE_PREFIX):] if device.startswith(DEVICE_PREFIX) else device


def device_name(port_id: str) -> str:
    return DEVICE_PREFIX + port_id[:11]


class L2(base.Component):

    # -- devices ---------------------------------------------------------------------

    def _port_row(self, s: orm.Session, device: str) -> models.Port | None:
        prefix = port_prefix(device)
        if not prefix:
            return None
        rows = list(s.scalars(sa.select(models.Port).where(
            models.Port.id.startswith(prefix, autoescape=True)).limit(2)))
        # Two ports sharing the 11-character prefix: the device is ambiguous.
        return rows[0] if len(rows) == 1 else None

    def device_details(self, ctxt: Any, device: str, host: str) -> dict[str, Any]:
        """What the agent on ``host`` needs to wire ``device``; ``{"device": device}``
        alone when no port matches it."""
        with self.db.reader() as s:
            row = self._port_row(s, device)
            if row is None:
                return {"device": device}
            net = s.get(models.Network, row.network_id)
            assert net is not None
            seg = net.segments[0] if net.segments else None
            bound = row.binding.host if row.binding is not None else ""
            return {
                "device": device, "port_id": row.id, "network_id": row.network_id,
                "network_type": seg.network_type if seg else "local",
                "physical_network": seg.physical_network if seg else None,
                "segmentation_id": seg.segmentation_id if seg else None,
                "mtu": net.mtu, "mac_address": row.mac_address,
                "fixed_ips": [f.ip_address for f in sorted(row.fixed_ips,
                                                           key=lambda f: f.ip_address)],
                "admin_state_up": bool(row.admin_state_up and net.admin_state_up),
                "device_owner": row.device_owner, "device_id": row.device_id,
                "port_security_enabled": bool(row.port_security_enabled),
                "security_groups": sorted(b.security_group_id for b in row.security_groups),
                "allowed_address_pairs": sorted(
                    ({"ip_address": p.ip_address, "mac_address": p.mac_address}
                     for p in row.allowed_address_pairs),
                    key=lambda p: (p["ip_address"], p["mac_address"])),
                "host": bound, "status": row.status,
            }

    def devices_details(self, ctxt: Any, devices: list[str], host: str) -> list[dict[str, Any]]:
        return [self.device_details(ctxt, dev, host) for dev in devices]

    # -- status ----------------------------------------------------------------------

    def set_port_status(self, ctxt: Any, port_id: str, status: str,
                        host: str | None = None) -> tuple[dict[str, Any], str]:
        """Set ``port_id``'s status; bind it to ``host`` when it is bound nowhere.

        The one place a port's status changes (hooks watch it for compute events).
        :returns: the port as the API shows it, and its status before.
        :raises: PortNotFound.
        """
        with self.db.writer() as s:
            row = s.get(models.Port, port_id)
            if row is None:
                raise exception.PortNotFound(port_id=port_id)
            old = row.status
            if host and (row.binding is None or not row.binding.host):
                self.core.ports._set_binding(row, {"binding:host_id": host})
            if old != status:
                row.status = status
                base.touch(row)
            s.flush()
            return self.core.ports.to_dict(row, base.load_tags(s, [row.id])), old

    def _device_status(self, ctxt: Any, device: str, host: str,
                       status: str) -> dict[str, Any] | None:
        with self.db.reader() as s:
            row = self._port_row(s, device)
            if row is None:
                return None
            port_id = row.id
            bound = row.binding.host if row.binding is not None else ""
        if bound and bound != host:
            # Another host owns the port (a migration in flight): its agent reports.
            return None
        try:
            port, _old = self.set_port_status(ctxt, port_id, status, host)
        except exception.PortNotFound:
            return None
        return port

    def update_device_up(self, ctxt: Any, device: str, host: str) -> dict[str, Any] | None:
        """The agent on ``host`` wired ``device``: ACTIVE. None when it is not a port
        of that host (unknown, or bound elsewhere)."""
        return self._device_status(ctxt, device, host, ACTIVE)

    def update_device_down(self, ctxt: Any, device: str, host: str) -> dict[str, Any] | None:
        """``device`` left ``host`` (or is administratively down): DOWN."""
        return self._device_status(ctxt, device, host, DOWN)

    # -- security groups -------------------------------------------------------------

    def security_group_info(self, ctxt: Any, port_ids: list[str]) -> dict[str, Any]:
        """The rules of the groups of ``port_ids`` and the member addresses of every
        group those rules name as ``remote_group_id``.

        :returns: ``{"security_groups": {group: [rule, ...]},
            "sg_member_ips": {group: {"IPv4": [ip, ...], "IPv6": [...]}}}``.
        """
        with self.db.reader() as s:
            groups = set(s.scalars(sa.select(models.SecurityGroupPortBinding.security_group_id)
                                   .where(models.SecurityGroupPortBinding.port_id.in_(
                                       list(port_ids) or [""]))))
            rules: dict[str, list[dict[str, Any]]] = {g: [] for g in groups}
            remotes: set[str] = set()
            for rule in s.scalars(sa.select(models.SecurityGroupRule).where(
                    models.SecurityGroupRule.security_group_id.in_(list(groups) or [""]))):
                rules[rule.security_group_id].append({
                    "id": rule.id, "direction": rule.direction, "ethertype": rule.ethertype,
                    "protocol": rule.protocol, "port_range_min": rule.port_range_min,
                    "port_range_max": rule.port_range_max,
                    "remote_ip_prefix": rule.remote_ip_prefix,
                    "remote_group_id": rule.remote_group_id})
                if rule.remote_group_id:
                    remotes.add(rule.remote_group_id)
            for group_rules in rules.values():
                group_rules.sort(key=lambda r: r["id"])
            members = {g: self._member_ips(s, g) for g in sorted(remotes)}
        return {"security_groups": rules, "sg_member_ips": members}

    @staticmethod
    def _member_ips(s: orm.Session, group_id: str) -> dict[str, list[str]]:
        out: dict[str, set[str]] = {"IPv4": set(), "IPv6": set()}
        port_ids = list(s.scalars(sa.select(models.SecurityGroupPortBinding.port_id).where(
            models.SecurityGroupPortBinding.security_group_id == group_id)))
        if port_ids:
            ips = list(s.scalars(sa.select(models.IPAllocation.ip_address).where(
                models.IPAllocation.port_id.in_(port_ids))))
            ips += list(s.scalars(sa.select(models.AllowedAddressPair.ip_address).where(
                models.AllowedAddressPair.port_id.in_(port_ids))))
            for ip in ips:
                out["IPv6" if ":" in ip else "IPv4"].add(ip)
        return {k: sorted(v) for k, v in out.items()}

    def ports_of_groups(self, ctxt: Any, group_ids: list[str]) -> list[str]:
        """Ports bound to any of ``group_ids``."""
        with self.db.reader() as s:
            return sorted(set(s.scalars(sa.select(models.SecurityGroupPortBinding.port_id)
                                        .where(models.SecurityGroupPortBinding
                                               .security_group_id.in_(group_ids or [""])))))

    # -- tunnels ---------------------------------------------------------------------

    def tunnel_peers(self, ctxt: Any, host: str) -> list[str]:
        """``tunneling_ip`` of every other live bridge agent (sorted, no duplicates)."""
        down = datetime.timedelta(seconds=int(self.conf.agent.agent_down_time))
        since = base_models.utcnow() - down
        with self.db.reader() as s:
            rows = list(s.scalars(sa.select(models.Agent).where(
                models.Agent.agent_type == AGENT_TYPE, models.Agent.host != host,
                models.Agent.heartbeat_timestamp >= since)))
            confs = [json.loads(r.configurations or "{}") for r in rows
                     if r.admin_state_up]
        mine = self._own_tunnel_ip(host)
        return sorted({str(c["tunneling_ip"]) for c in confs
                       if c.get("tunneling_ip") and c["tunneling_ip"] != mine})

    def _own_tunnel_ip(self, host: str) -> str | None:
        with self.db.reader() as s:
            row = s.scalar(sa.select(models.Agent).where(
                models.Agent.agent_type == AGENT_TYPE, models.Agent.host == host))
            if row is None:
                return None
            found = json.loads(row.configurations or "{}").get("tunneling_ip")
            return str(found) if found else None
