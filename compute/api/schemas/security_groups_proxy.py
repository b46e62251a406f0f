"""Request bodies of the deprecated security group proxy APIs (before 2.36).

Nova checks these bodies by hand rather than by schema; with Neutron behind it a
group's name and description are each required, a string of at most 255
characters (blank allowed: the network service decides). A rule's ports may be
integers or strings of integers, as Nova converted them; their values, the
protocol and the cidr are checked by the service (compute/security_groups_proxy).
"""
from __future__ import annotations

from typing import Any

_TEXT: dict[str, Any] = {"type": "string", "maxLength": 255}

GROUP: dict[str, Any] = {
    "type": "object",
    "properties": {"security_group": {
        "type": "object",
        "properties": {"name": _TEXT, "description": _TEXT},
        "required": ["name", "description"]}},
    "required": ["security_group"],
}

_PORT: dict[str, Any] = {"type": ["integer", "string", "null"]}
_ID: dict[str, Any] = {"type": ["string", "integer", "null"]}

RULE: dict[str, Any] = {
    "type": "object",
    "properties": {"security_group_rule": {
        "type": "object",
        "properties": {"parent_group_id": _ID, "group_id": _ID,
                       "ip_protocol": {"type": ["string", "null"]},
                       "from_port": _PORT, "to_port": _PORT,
                       "cidr": {"type": ["string", "null"]}},
        "required": ["parent_group_id"]}},
    "required": ["security_group_rule"],
}
