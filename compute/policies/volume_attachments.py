"""Policy defaults of a server's volume attachments (``os-volume_attachments``),
under Nova's ``os-volumes-attachments`` rule names: the server's project
readers list and show them, its members attach and detach them. ``update`` is
the PUT of 2.85 (a member's), ``swap`` the PUT of earlier versions (admins
only: it moves a guest's data to another volume)."""
from __future__ import annotations

from oslo_policy import policy

from compute.policies.base import ADMIN, PROJECT_MEMBER, PROJECT_READER
from compute.policies.base import one as _rule

ATTACHMENTS = "/v2.1/servers/{server_id}/os-volume_attachments"
ATTACHMENT = ATTACHMENTS + "/{volume_id}"


def list_rules() -> list[policy.RuleDefault]:
    return [
        _rule("os-volumes-attachments:index", PROJECT_READER,
              "List the volumes attached to a server.", "GET", ATTACHMENTS),
        _rule("os-volumes-attachments:show", PROJECT_READER,
              "Show one volume attachment of a server.", "GET", ATTACHMENT),
        _rule("os-volumes-attachments:create", PROJECT_MEMBER,
              "Attach a volume to a server.", "POST", ATTACHMENTS),
        _rule("os-volumes-attachments:update", PROJECT_MEMBER,
              "Update a volume attachment (2.85).", "PUT", ATTACHMENT),
        _rule("os-volumes-attachments:swap", ADMIN,
              "Swap an attached volume for another one.", "PUT", ATTACHMENT),
        _rule("os-volumes-attachments:delete", PROJECT_MEMBER,
              "Detach a volume from a server.", "DELETE", ATTACHMENT),
    ]
