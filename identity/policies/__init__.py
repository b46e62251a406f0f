"""Identity policy defaults, in code; ``list_rules`` feeds the sample generator."""
from __future__ import annotations

from oslo_policy import policy

from identity.policies import rules as identity_rules


def list_rules() -> list[policy.RuleDefault]:
    return identity_rules.list_rules()
