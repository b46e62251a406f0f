"""Forms of the networks panel: network (with its first subnet), subnet, port."""
from __future__ import annotations

import ipaddress
from typing import Any

from django import forms

from dashboard.panels.project.networks import subnet_fields
from dashboard.panels.project.networks.subnet_fields import SubnetFields

_NETWORK_FIELDS = ["name", "admin_state_up", "shared"]


class NetworkCreateForm(SubnetFields):
    """A network and, unless "Create subnet" is cleared, its subnet."""

    name = forms.CharField(label="Network name", required=False, max_length=255)
    admin_state_up = forms.BooleanField(label="Admin state up", required=False, initial=True)
    shared = forms.BooleanField(label="Shared", required=False,
                                help_text="Other projects may use it (administrators only).")
    create_subnet = forms.BooleanField(label="Create subnet", required=False, initial=True)

    field_order = _NETWORK_FIELDS + ["create_subnet", "subnet_name", "cidr", "ip_version",
                                     "gateway_ip", "no_gateway", "enable_dhcp",
                                     "allocation_pools", "dns_nameservers", "host_routes"]

    def __init__(self, data: Any = None, is_admin: bool = False) -> None:
        super().__init__(data)
        if not is_admin:
            del self.fields["shared"]

    def subnet_wanted(self) -> bool:
        return bool(self.cleaned_data.get("create_subnet"))


class NetworkEditForm(forms.Form):
    name = forms.CharField(label="Network name", required=False, max_length=255)
    admin_state_up = forms.BooleanField(label="Admin state up", required=False)
    shared = forms.BooleanField(label="Shared", required=False)

    def __init__(self, data: Any = None, initial: dict[str, Any] | None = None,
                 is_admin: bool = False) -> None:
        super().__init__(data, initial=initial)
        if not is_admin:
            del self.fields["shared"]


class SubnetForm(SubnetFields):
    """Create a subnet, or edit one (its address and IP version are fixed)."""

    def __init__(self, data: Any = None, initial: dict[str, Any] | None = None,
                 editing: bool = False) -> None:
        super().__init__(data, initial=initial)
        self.editing = editing
        if editing:
            for name in ("cidr", "ip_version"):
                self.fields[name].disabled = True
            self.fields["gateway_ip"].help_text = "Empty: leave the gateway as it is."
            self.fields["allocation_pools"].help_text = "Empty: leave the pools as they are."


def subnet_initial(subnet: Any) -> dict[str, Any]:
    """An existing subnet as the edit form's initial values."""
    return {"subnet_name": subnet.name, "cidr": subnet.cidr, "ip_version": subnet.ip_version,
            "gateway_ip": subnet.gateway_ip or "", "no_gateway": not subnet.gateway_ip,
            "enable_dhcp": bool(subnet.is_dhcp_enabled),
            "allocation_pools": "\n".join("%s,%s" % (p["start"], p["end"])
                                          for p in subnet.allocation_pools or []),
            "dns_nameservers": "\n".join(subnet.dns_nameservers or []),
            "host_routes": "\n".join("%s,%s" % (r["destination"], r["nexthop"])
                                     for r in subnet.host_routes or [])}


class PortForm(forms.Form):
    """A port on the network, optionally with a chosen subnet and address."""

    name = forms.CharField(required=False, max_length=255)
    subnet = forms.ChoiceField(label="Subnet", required=False)
    ip_address = forms.CharField(label="Fixed IP address", required=False, max_length=64,
                                 help_text="Empty: the next free address.")
    admin_state_up = forms.BooleanField(label="Admin state up", required=False, initial=True)

    def __init__(self, data: Any, subnets: list[Any]) -> None:
        super().__init__(data)
        self.subnets = {s.id: s for s in subnets}
        self.fields["subnet"].choices = [("", "Any subnet")] + [
            (s.id, "%s %s" % (s.name or s.id[:8], s.cidr)) for s in subnets]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        text = (data.get("ip_address") or "").strip()
        subnet_id = data.get("subnet") or ""
        if not text:
            data["fixed_ips"] = [{"subnet_id": subnet_id}] if subnet_id else None
            return data
        try:
            addr = subnet_fields.parse_ip(text)
        except forms.ValidationError as err:
            self.add_error("ip_address", err)
            return data
        inside = [s for s in self.subnets.values()
                  if addr in ipaddress.ip_network(s.cidr, strict=False)]
        if subnet_id and self.subnets[subnet_id] not in inside:
            self.add_error("ip_address", "%s is not inside %s."
                           % (addr, self.subnets[subnet_id].cidr))
        elif not inside:
            self.add_error("ip_address", "%s is inside none of the network's subnets." % addr)
        else:
            chosen = subnet_id or inside[0].id
            data["fixed_ips"] = [{"subnet_id": chosen, "ip_address": str(addr)}]
        return data
