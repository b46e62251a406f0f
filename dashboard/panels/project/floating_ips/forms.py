"""Forms of the floating IPs panel: allocate, associate."""
from __future__ import annotations

from typing import Any

from django import forms

POOL_PREFIX = "pool:"
IP_PREFIX = "ip:"


class AllocateForm(forms.Form):
    pool = forms.ChoiceField(label="Pool", help_text="The external network the address "
                                                     "comes from.")
    description = forms.CharField(required=False, max_length=255)

    def __init__(self, data: Any, externals: list[Any]) -> None:
        super().__init__(data)
        self.fields["pool"].choices = [(n.id, n.name or n.id) for n in externals]


class AssociateForm(forms.Form):
    """Which floating IP (or a new one from a pool) goes to which port address."""

    ip = forms.ChoiceField(label="Floating IP")
    port = forms.ChoiceField(label="Port to be associated",
                             help_text="The instance's address the floating IP maps to.")

    def __init__(self, data: Any, free_ips: list[Any], externals: list[Any],
                 targets: list[tuple[str, str]], initial_ip: str = "") -> None:
        super().__init__(data, initial={"ip": initial_ip} if initial_ip else None)
        self.fields["ip"].choices = [
            (IP_PREFIX + f.id, str(f.floating_ip_address)) for f in free_ips] + [
            (POOL_PREFIX + n.id, "Allocate a new one from pool %s" % (n.name or n.id))
            for n in externals]
        self.fields["port"].choices = [("", "Choose an address")] + targets
        if not targets:
            self.fields["port"].help_text = ("No instance address is left to map: every "
                                             "one has a floating IP already, or there is no "
                                             "instance port.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("port"):
            port_id, _, fixed_ip = data["port"].partition("/")
            data["port_id"], data["fixed_ip"] = port_id, fixed_ip
        if data.get("ip"):
            kind, _, ref = data["ip"].partition(":")
            data["pool_id" if kind + ":" == POOL_PREFIX else "ip_id"] = ref
        return data
