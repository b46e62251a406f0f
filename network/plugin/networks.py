"""Networks and their segments (flat, VLAN, VXLAN), allocated from configured ranges."""
from __future__ import annotations

import random
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from network import exception
from network.db import models
from network.plugin import base

VXLAN_OVERHEAD = 50
MAX_VNI = 2 ** 24 - 1
_AUTO_DELETED = ("network:dhcp", "network:floatingip")


def _ranges(items: list[str]) -> list[tuple[int, int]]:
    found = []
    for item in items:
        low, _sep, high = item.partition(":")
        found.append((int(low), int(high or low)))
    return found


class Networks(base.Readable):

    # -- views -----------------------------------------------------------------------

    model = models.Network

    def not_found(self, obj_id: str) -> Exception:
        return exception.NetworkNotFound(net_id=obj_id)

    def to_dict(self, row: models.Network, tags: dict[str, list[str]]) -> dict[str, Any]:
        seg = row.segments[0] if row.segments else None
        out = {
            "id": row.id, "name": row.name, "admin_state_up": row.admin_state_up,
            "status": row.status, "shared": row.shared, "router:external": row.external,
            "mtu": row.mtu, "port_security_enabled": row.port_security_enabled,
            "subnets": sorted(s.id for s in row.subnets),
            "provider:network_type": seg.network_type if seg else None,
            "provider:physical_network": seg.physical_network if seg else None,
            "provider:segmentation_id": seg.segmentation_id if seg else None,
            "availability_zone_hints": [], "availability_zones": [],
            "ipv4_address_scope": None, "ipv6_address_scope": None,
        }
        out.update(base.standard(row, tags))
        return out

    def visible_query(self, ctxt: Any) -> Any:
        query = sa.select(models.Network)
        if not base.is_admin(ctxt):
            query = query.where(sa.or_(models.Network.project_id == base.project_of(ctxt),
                                       models.Network.shared.is_(True),
                                       models.Network.external.is_(True)))
        return query

    def owner_info(self, net_id: str) -> dict[str, Any] | None:
        """Owner, shared and external flags of a network, whoever asks (policy targets)."""
        with self.db.reader() as s:
            found = s.execute(sa.select(models.Network.project_id, models.Network.shared,
                                        models.Network.external).where(
                models.Network.id == net_id)).first()
        if found is None:
            return None
        return {"network.project_id": found[0], "network.shared": found[1],
                "network.router:external": found[2]}

    def check_visible(self, ctxt: Any, net_id: str) -> None:
        """:raises: NetworkNotFound unless ``ctxt`` may see network ``net_id``."""
        query = self.visible_query(ctxt).with_only_columns(models.Network.id).where(
            models.Network.id == net_id)
        with self.db.reader() as s:
            if s.scalar(query) is None:
                raise exception.NetworkNotFound(net_id=net_id)

    # -- API -------------------------------------------------------------------------

    @base.retry_db
    def create(self, ctxt: Any, body: dict[str, Any], attempt: int = 0) -> dict[str, Any]:
        with self.db.writer() as s:
            base.check_quota(self.conf, s, "network", body["project_id"])
            row = models.Network(
                id=base.new_id(), project_id=body["project_id"], name=body["name"],
                admin_state_up=body["admin_state_up"], shared=body["shared"],
                external=body["router:external"],
                port_security_enabled=body["port_security_enabled"], status="ACTIVE")
            base.init_standard(row, body)
            segment = self._segment(s, body, attempt)
            row.mtu = self._mtu(segment.network_type, body.get("mtu") or 0)
            segment.network_id = row.id
            s.add(row)
            s.flush()
            s.add(segment)
            s.flush()
            s.refresh(row)
            return self.to_dict(row, {})

    def _mtu(self, network_type: str, requested: int) -> int:
        physical = int(self.conf.ml2.path_mtu or self.conf.global_physnet_mtu)
        if network_type == "vxlan":
            physical -= VXLAN_OVERHEAD
        if requested:
            if requested > physical or requested < 68:
                raise exception.InvalidInput(
                    error_message="Requested MTU %d is not in range 68 through %d"
                    % (requested, physical))
            return requested
        return physical

    def _segment(self, s: orm.Session, body: dict[str, Any],
                 attempt: int) -> models.NetworkSegment:
        net_type = body.get("provider:network_type")
        physnet = body.get("provider:physical_network")
        seg_id = body.get("provider:segmentation_id")
        types = list(self.conf.ml2.type_drivers)
        if net_type is None:
            if physnet is not None or seg_id is not None:
                raise exception.InvalidInput(
                    error_message="provider:network_type required")
            for candidate in self.conf.ml2.tenant_network_types:
                found = self._allocate(s, candidate, attempt)
                if found is not None:
                    return found
            raise exception.NoNetworkAvailable()
        if net_type not in types:
            raise exception.InvalidInput(
                error_message="network_type value '%s' not supported" % net_type)
        if net_type == "flat":
            key = self._flat_key(physnet, seg_id)
        elif net_type == "vlan":
            if seg_id is None:
                self._check_vlan_physnet(physnet)
                found = self._allocate(s, "vlan", attempt, physnet)
                if found is None:
                    raise exception.NoNetworkAvailable()
                return found
            key = self._vlan_key(physnet, seg_id)
        else:
            if physnet is not None:
                raise exception.InvalidInput(
                    error_message="provider:physical_network specified for %s network"
                    % net_type)
            if seg_id is None:
                found = self._allocate(s, net_type, attempt)
                if found is None:
                    raise exception.NoNetworkAvailable()
                return found
            if not 1 <= seg_id <= MAX_VNI:
                raise exception.InvalidInput(
                    error_message="segmentation_id out of range (1 through %d)" % MAX_VNI)
            key = "%s:%d" % (net_type, seg_id)
        if s.scalar(sa.select(models.NetworkSegment.id).where(
                models.NetworkSegment.allocation_key == key)):
            raise exception.SegmentationIdInUse(network_type=net_type,
                                                segmentation_id=seg_id or physnet)
        return models.NetworkSegment(id=base.new_id(), network_type=net_type,
                                     physical_network=physnet, segmentation_id=seg_id,
                                     allocation_key=key)

    def _flat_key(self, physnet: str | None, seg_id: int | None) -> str:
        allowed = list(self.conf.ml2_type_flat.flat_networks)
        if not physnet:
            raise exception.InvalidInput(
                error_message="physical_network required for flat provider network")
        if seg_id is not None:
            raise exception.InvalidInput(
                error_message="segmentation_id specified for flat provider network")
        if "*" not in allowed and physnet not in allowed:
            raise exception.InvalidInput(
                error_message="physical_network '%s' unknown for flat provider network"
                % physnet)
        return "flat:%s" % physnet

    def _check_vlan_physnet(self, physnet: str | None) -> None:
        physnets = {e.split(":")[0] for e in self.conf.ml2_type_vlan.network_vlan_ranges}
        if not physnet:
            raise exception.InvalidInput(
                error_message="physical_network required for VLAN provider network")
        if physnet not in physnets:
            raise exception.InvalidInput(
                error_message="physical_network '%s' unknown for VLAN provider network"
                % physnet)

    def _vlan_key(self, physnet: str | None, seg_id: int) -> str:
        self._check_vlan_physnet(physnet)
        if not 1 <= seg_id <= 4094:
            raise exception.InvalidInput(
                error_message="segmentation_id out of range (1 through 4094)")
        return "vlan:%s:%d" % (physnet, seg_id)

    def _allocate(self, s: orm.Session, net_type: str, attempt: int,
                  physnet: str | None = None) -> models.NetworkSegment | None:
        if net_type == "vxlan":
            ranges = _ranges(list(self.conf.ml2_type_vxlan.vni_ranges))
        elif net_type == "vlan":
            ranges = []
            for entry in self.conf.ml2_type_vlan.network_vlan_ranges:
                parts = entry.split(":")
                if len(parts) == 3 and (physnet is None or parts[0] == physnet):
                    physnet = parts[0]
                    ranges.append((int(parts[1]), int(parts[2])))
        else:
            return None
        if not ranges:
            return None
        query = sa.select(models.NetworkSegment.segmentation_id).where(
            models.NetworkSegment.network_type == net_type)
        if physnet is not None:
            query = query.where(models.NetworkSegment.physical_network == physnet)
        used = set(s.scalars(query))
        free: list[int] = []
        for low, high in ranges:
            for value in range(low, high + 1):
                if value not in used:
                    free.append(value)
                    if len(free) >= 32:
                        break
            if len(free) >= 32:
                break
        if not free:
            return None
        seg_id = free[0] if attempt == 0 else random.choice(free)
        key = ("vlan:%s:%d" % (physnet, seg_id)) if net_type == "vlan" else \
            "%s:%d" % (net_type, seg_id)
        return models.NetworkSegment(id=base.new_id(), network_type=net_type,
                                     physical_network=physnet if net_type == "vlan" else None,
                                     segmentation_id=seg_id, allocation_key=key)

    def update(self, ctxt: Any, net_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.db.writer() as s:
            row = self.get_row(s, ctxt, net_id)
            for key, column in (("name", "name"), ("admin_state_up", "admin_state_up"),
                                ("shared", "shared"), ("router:external", "external"),
                                ("port_security_enabled", "port_security_enabled"),
                                ("description", "description")):
                if key in body:
                    setattr(row, column, body[key])
            if "mtu" in body and body["mtu"]:
                seg = row.segments[0] if row.segments else None
                row.mtu = self._mtu(seg.network_type if seg else "flat", body["mtu"])
            base.touch(row)
            s.flush()
            return self.to_dict(row, base.load_tags(s, [row.id]))

    def delete(self, ctxt: Any, net_id: str) -> None:
        with self.db.writer() as s:
            row = self.get_row(s, ctxt, net_id)
            ports = list(s.scalars(sa.select(models.Port).where(
                models.Port.network_id == net_id)))
            # DHCP ports and unassociated or not, floating IPs go with the network.
            if any(p.device_owner not in _AUTO_DELETED for p in ports):
                raise exception.NetworkInUse(net_id=net_id)
            s.execute(sa.delete(models.FloatingIP).where(
                models.FloatingIP.floating_network_id == net_id))
            for port in ports:
                s.delete(port)
            s.flush()
            s.execute(sa.delete(models.Tag).where(models.Tag.resource_id.in_(
                [net_id] + [sub.id for sub in row.subnets])))
            s.delete(row)
