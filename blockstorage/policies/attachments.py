"""Attachment policies (API 3.27+; B1 creates, B3 adds rules it needs)."""
from __future__ import annotations

from oslo_policy import policy

from blockstorage.policies.base import PROJECT_MEMBER, PROJECT_READER
from blockstorage.policies.base import one as _rule

ATTACHMENTS = "/attachments"
ATTACHMENT = ATTACHMENTS + "/{attachment_id}"

RULES: list[policy.RuleDefault] = [
    _rule("volume:attachment_get", PROJECT_READER, "Show or list attachments.", "GET",
          ATTACHMENT),
    _rule("volume:attachment_create", PROJECT_MEMBER, "Create an attachment.", "POST",
          ATTACHMENTS),
    _rule("volume:attachment_update", PROJECT_MEMBER,
          "Update an attachment with the host's connector.", "PUT", ATTACHMENT),
    _rule("volume:attachment_delete", PROJECT_MEMBER, "Delete an attachment.", "DELETE",
          ATTACHMENT),
    _rule("volume:attachment_complete", PROJECT_MEMBER,
          "Mark an attachment complete (volume in-use).", "POST",
          ATTACHMENT + "/action (os-complete)"),
    _rule("volume:multiattach_bootable_volume", PROJECT_MEMBER,
          "Attach a bootable multiattach volume more than once.", "POST", ATTACHMENTS),
]


def list_rules() -> list[policy.RuleDefault]:
    return list(RULES)
