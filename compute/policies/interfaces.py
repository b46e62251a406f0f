"""Policy defaults of a server's port interfaces (``os-interface``), under
Nova's ``os-attach-interfaces`` rule names: the server's project readers list
and show them, its members attach and detach them; admins do everything."""
from __future__ import annotations

from oslo_policy import policy

from compute.policies.base import PROJECT_MEMBER, PROJECT_READER
from compute.policies.base import one as _rule

INTERFACES = "/v2.1/servers/{server_id}/os-interface"
INTERFACE = INTERFACES + "/{port_id}"


def list_rules() -> list[policy.RuleDefault]:
    return [
        _rule("os-attach-interfaces:list", PROJECT_READER, "List a server's port interfaces.",
              "GET", INTERFACES),
        _rule("os-attach-interfaces:show", PROJECT_READER, "Show a server's port interface.",
              "GET", INTERFACE),
        _rule("os-attach-interfaces:create", PROJECT_MEMBER,
              "Attach a port interface to a server.", "POST", INTERFACES),
        _rule("os-attach-interfaces:delete", PROJECT_MEMBER,
              "Detach a port interface from a server.", "DELETE", INTERFACE),
    ]
