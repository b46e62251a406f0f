"""Container and account ACLs: how they are written, checked and read.

Container ACLs (``X-Container-Read`` / ``X-Container-Write``) are comma separated
lists. An item is a referrer rule (``.r:*``, ``.r:example.com``, ``.r:.example.com``
for a whole domain, ``.r:-bad.com`` to exclude), ``.rlistings`` (referrer-allowed
clients may also list the container), or a grant understood by the auth middleware
(``project:user``, ``project:*``, ``*:user``, ``*:*``, a role or group name).

Account ACLs (``X-Account-Access-Control``) are a JSON object with the keys
``admin``, ``read-write`` and ``read-only``, each a list of grants; they are stored
as account sysmeta ``X-Account-Sysmeta-Core-Access-Control``.
"""
from __future__ import annotations

import json
from urllib.parse import urlparse

#: Spellings of the referrer rule prefix a client may use (all stored as ``.r``).
_REFERRER_NAMES = (".r", ".ref", ".referer", ".referrer")
#: The only other dotted item.
LISTINGS = ".rlistings"

#: Keys of an account ACL, in their order of power.
ACCOUNT_ACL_KEYS = ("admin", "read-write", "read-only")
#: The client-facing header of account ACLs and the sysmeta that stores them.
ACCOUNT_ACL_HEADER = "X-Account-Access-Control"
ACCOUNT_ACL_SYSMETA = "X-Account-Sysmeta-Core-Access-Control"


def _clean_item(header: str, item: str) -> str:
    """One ACL item as stored, or ValueError when it is not valid in ``header``."""
    if not item.startswith("."):
        return item
    kind, colon, value = item.partition(":")
    kind = kind.strip().lower()
    if kind == LISTINGS and not colon:
        return LISTINGS
    if kind not in _REFERRER_NAMES:
        raise ValueError("Unknown designator %r in ACL %r" % (kind, item))
    if "write" in header.lower():
        raise ValueError("Referrers not allowed in write ACL: %r" % item)
    value = value.strip()
    negate = value.startswith("-")
    if negate:
        value = value[1:].strip()
    if value != "*" and value.startswith("*"):
        value = value[1:].strip()  # "*.example.com" means ".example.com"
    if not value or value == ".":
        raise ValueError("No host/domain value after referrer designation in ACL: %r"
                         % item)
    return ".r:%s%s" % ("-" if negate else "", value)


def clean_acl(header: str, value: str) -> str:
    """``value`` of the ACL header ``header`` normalised for storage.

    Items are stripped, referrer designators unified to ``.r:``; empty items
    dropped. Raises ValueError for unknown designators and for referrer rules in a
    write ACL (where they would let anyone write).
    """
    items = [item.strip() for item in value.split(",")]
    return ",".join(_clean_item(header, item) for item in items if item)


def parse_acl(value: str | None) -> tuple[list[str], list[str]]:
    """(referrer rules, other grants) of a stored container ACL.

    Referrer rules lose their ``.r:`` (``*``, ``.example.com``, ``-bad.com``);
    ``.rlistings`` stays among the grants.
    """
    referrers: list[str] = []
    grants: list[str] = []
    for item in (value or "").split(","):
        item = item.strip()
        if not item:
            continue
        if item.startswith(".r:"):
            referrers.append(item[3:])
        else:
            grants.append(item)
    return referrers, grants


def format_acl(referrers: list[str] | None = None, grants: list[str] | None = None) -> str:
    """The stored form of a container ACL (the inverse of ``parse_acl``)."""
    items = [".r:%s" % r for r in referrers or []] + list(grants or [])
    return ",".join(items)


def _host_of(referrer: str) -> str:
    """The host name of a Referer header value (empty when it has none)."""
    parsed = urlparse(referrer if "//" in referrer else "//" + referrer)
    return (parsed.hostname or "").lower()


def _rule_matches(rule: str, host: str) -> bool:
    if rule == "*":
        return True
    rule = rule.lower()
    if rule.startswith("."):
        return host.endswith(rule)  # a domain rule does not match the bare domain
    return host == rule


def referrer_allowed(referrer: str | None, rules: list[str]) -> bool:
    """Whether a request with this Referer passes the referrer rules.

    Rules are applied in order and the last one that matches decides, so
    ``.r:*,.r:-bad.com`` admits everyone but bad.com. ``*`` also admits requests
    without a Referer; other rules need one.
    """
    host = _host_of(referrer) if referrer else ""
    allowed = False
    for rule in rules:
        negate = rule.startswith("-")
        if negate:
            rule = rule[1:]
        if rule == "*" or (host and _rule_matches(rule, host)):
            allowed = not negate
    return allowed


def parse_account_acl(value: str | None) -> dict[str, list[str]] | None:
    """The account ACL dict of its JSON form (None when there is none).

    Raises ValueError when the JSON is not an object of the known keys, each a
    list of strings.
    """
    if not value:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        raise ValueError("Account ACL is not valid JSON")
    if not isinstance(data, dict):
        raise ValueError("Account ACL must be a JSON object")
    unknown = set(data) - set(ACCOUNT_ACL_KEYS)
    if unknown:
        raise ValueError("Unknown keys in account ACL: %s" % ", ".join(sorted(unknown)))
    result: dict[str, list[str]] = {}
    for key in ACCOUNT_ACL_KEYS:
        grants = data.get(key, [])
        if not isinstance(grants, list) or not all(isinstance(g, str) for g in grants):
            raise ValueError("Value of %r in account ACL must be a list of strings" % key)
        result[key] = grants
    return result


def format_account_acl(acl: dict[str, list[str]]) -> str:
    """The compact JSON of an account ACL, leaving out empty keys."""
    data = {key: list(acl[key]) for key in ACCOUNT_ACL_KEYS if acl.get(key)}
    return json.dumps(data, separators=(",", ":"), sort_keys=True)
