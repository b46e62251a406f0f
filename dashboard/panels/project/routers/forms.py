"""Forms of the routers panel."""
from __future__ import annotations

import ipaddress
from typing import Any

from django import forms

from dashboard.panels.project.networks import subnet_fields


def _network_choices(networks: list[Any]) -> list[tuple[str, str]]:
    return [(n.id, n.name or n.id) for n in networks]


class RouterCreateForm(forms.Form):
    name = forms.CharField(required=False, max_length=255)
    admin_state_up = forms.BooleanField(label="Admin state up", required=False, initial=True)
    external_network = forms.ChoiceField(label="External network", required=False,
                                         help_text="Its gateway: how the router reaches "
                                                   "outside (and floating IPs come in).")

    def __init__(self, data: Any, externals: list[Any]) -> None:
        super().__init__(data)
        self.fields["external_network"].choices = [("", "No gateway")] + \
            _network_choices(externals)


class GatewayForm(forms.Form):
    external_network = forms.ChoiceField(label="External network")

    def __init__(self, data: Any, externals: list[Any], initial: str = "") -> None:
        super().__init__(data, initial={"external_network": initial})
        self.fields["external_network"].choices = _network_choices(externals)


class InterfaceForm(forms.Form):
    """A subnet of the project to attach, and optionally the router's address on it."""

    subnet = forms.ChoiceField(label="Subnet")
    ip_address = forms.CharField(label="IP address", required=False, max_length=64,
                                 help_text="Empty: the subnet's gateway address.")

    def __init__(self, data: Any, subnets: list[Any], net_names: dict[str, str]) -> None:
        super().__init__(data)
        self.subnets = {s.id: s for s in subnets}
        self.fields["subnet"].choices = [("", "Choose a subnet")] + [
            (s.id, "%s: %s %s" % (net_names.get(s.network_id, s.network_id), s.name or "",
                                  s.cidr)) for s in subnets]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        text = (data.get("ip_address") or "").strip()
        subnet = self.subnets.get(data.get("subnet") or "")
        if not text or subnet is None:
            data["ip_address"] = ""
            return data
        try:
            addr = subnet_fields.parse_ip(text)
        except forms.ValidationError as err:
            self.add_error("ip_address", err)
            return data
        net = ipaddress.ip_network(subnet.cidr, strict=False)
        if addr not in net or addr == net.network_address:
            self.add_error("ip_address", "%s is not a host address of %s." % (addr, net))
        data["ip_address"] = str(addr)
        return data
