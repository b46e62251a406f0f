"""Security group rules: the Add Rule form (templates, ports, remote) and how a
rule reads in the table."""
from __future__ import annotations

from typing import Any

from django import forms

from dashboard.panels.project.networks import subnet_fields

# slug -> (label, protocol, fixed port range or None)
TEMPLATES: dict[str, tuple[str, str | None, tuple[int, int] | None]] = {
    "custom_tcp": ("Custom TCP Rule", "tcp", None),
    "custom_udp": ("Custom UDP Rule", "udp", None),
    "custom_icmp": ("Custom ICMP Rule", "icmp", None),
    "all_tcp": ("All TCP", "tcp", (1, 65535)),
    "all_udp": ("All UDP", "udp", (1, 65535)),
    "all_icmp": ("All ICMP", "icmp", None),
    "any": ("Any protocol", None, None),
    "ssh": ("SSH", "tcp", (22, 22)),
    "http": ("HTTP", "tcp", (80, 80)),
    "https": ("HTTPS", "tcp", (443, 443)),
    "dns": ("DNS", "udp", (53, 53)),
    "smtp": ("SMTP", "tcp", (25, 25)),
    "imap": ("IMAP", "tcp", (143, 143)),
    "ldap": ("LDAP", "tcp", (389, 389)),
    "rdp": ("RDP", "tcp", (3389, 3389)),
    "mysql": ("MySQL", "tcp", (3306, 3306)),
    "postgresql": ("PostgreSQL", "tcp", (5432, 5432)),
}
CUSTOM_PORTS = ("custom_tcp", "custom_udp")


def _port(label: str) -> forms.IntegerField:
    return forms.IntegerField(label=label, required=False, min_value=1, max_value=65535)


def _icmp(label: str) -> forms.IntegerField:
    return forms.IntegerField(label=label, required=False, min_value=-1, max_value=255,
                              help_text="-1 or empty: any.")


class RuleForm(forms.Form):
    rule = forms.ChoiceField(label="Rule", choices=[(k, v[0]) for k, v in TEMPLATES.items()],
                             initial="custom_tcp")
    description = forms.CharField(required=False, max_length=255)
    direction = forms.ChoiceField(choices=[("ingress", "Ingress"), ("egress", "Egress")],
                                  initial="ingress")
    port_or_range = forms.ChoiceField(label="Open port", initial="port",
                                      choices=[("port", "Port"), ("range", "Port range")],
                                      help_text="For custom TCP and UDP rules.")
    port = _port("Port")
    from_port = _port("From port")
    to_port = _port("To port")
    icmp_type = _icmp("ICMP type")
    icmp_code = _icmp("ICMP code")
    remote = forms.ChoiceField(choices=[("cidr", "CIDR"), ("sg", "Security group")],
                               initial="cidr")
    cidr = forms.CharField(label="CIDR", required=False, initial="0.0.0.0/0", max_length=64,
                           help_text="Where traffic comes from (ingress) or goes to (egress); "
                                     "its IP version sets the ether type.")
    security_group = forms.ChoiceField(label="Security group", required=False)
    ether_type = forms.ChoiceField(label="Ether type", choices=[("IPv4", "IPv4"),
                                                                ("IPv6", "IPv6")],
                                   initial="IPv4", help_text="With a security group as remote.")

    def __init__(self, data: Any, groups: list[Any]) -> None:
        super().__init__(data)
        self.fields["security_group"].choices = [("", "Choose a group")] + [
            (g.id, g.name or g.id) for g in groups]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors or "rule" not in data:
            return data
        label, protocol, fixed = TEMPLATES[data["rule"]]
        body: dict[str, Any] = {"direction": data["direction"], "protocol": protocol}
        if data.get("description"):
            body["description"] = data["description"]
        ports = fixed if fixed else self._ports(data)
        if self.errors:
            return data
        if ports:
            body["port_range_min"] = ports[0]
            if ports[1] is not None:
                body["port_range_max"] = ports[1]
        if data["remote"] == "cidr":
            text = (data.get("cidr") or "").strip()
            if not text:
                self.add_error("cidr", "Enter the remote CIDR (0.0.0.0/0 for anywhere).")
                return data
            try:
                net = subnet_fields.parse_cidr(text)
            except forms.ValidationError as err:
                self.add_error("cidr", err)
                return data
            body["remote_ip_prefix"], body["ether_type"] = str(net), "IPv%d" % net.version
        else:
            if not data.get("security_group"):
                self.add_error("security_group", "Choose the remote security group.")
                return data
            body["remote_group_id"], body["ether_type"] = data["security_group"], \
                data["ether_type"]
        if protocol == "icmp" and body["ether_type"] == "IPv6":
            body["protocol"] = "ipv6-icmp"
        data["body"] = body
        return data

    def _ports(self, data: dict[str, Any]) -> tuple[int, int | None] | None:
        """The port range a custom rule asks for (None: none, or a field error)."""
        if data["rule"] == "custom_icmp":
            kind, code = data.get("icmp_type"), data.get("icmp_code")
            if kind is None or kind == -1:
                if code not in (None, -1):
                    self.add_error("icmp_code", "A code needs an ICMP type.")
                    return None
                return None
            return (kind, None if code in (None, -1) else code)
        if data["rule"] not in CUSTOM_PORTS:
            return None
        if data["port_or_range"] == "port":
            if data.get("port") is None:
                self.add_error("port", "Enter a port (1 to 65535).")
                return None
            return (data["port"], data["port"])
        low, high = data.get("from_port"), data.get("to_port")
        if low is None or high is None:
            self.add_error("from_port" if low is None else "to_port",
                           "Enter both ends of the range (1 to 65535).")
            return None
        if low > high:
            self.add_error("to_port", "The range ends before it starts (%d > %d)."
                           % (low, high))
            return None
        return (low, high)


def port_range(rule: dict[str, Any]) -> str:
    low, high = rule.get("port_range_min"), rule.get("port_range_max")
    if str(rule.get("protocol") or "") in ("icmp", "ipv6-icmp", "icmpv6", "1", "58"):
        if low is None:
            return "Any"
        return "type %s" % low + ("" if high is None else " code %s" % high)
    if low is None and high is None:
        return "Any"
    if low == high or high is None:
        return str(low)
    return "%s - %s" % (low, high)


def remote(rule: dict[str, Any], group_names: dict[str, str]) -> str:
    if rule.get("remote_group_id"):
        gid = rule["remote_group_id"]
        return "%s (group)" % group_names.get(gid, gid)
    if rule.get("remote_ip_prefix"):
        return str(rule["remote_ip_prefix"])
    return "Any (%s)" % ("0.0.0.0/0" if rule.get("ethertype", "IPv4") == "IPv4" else "::/0")
