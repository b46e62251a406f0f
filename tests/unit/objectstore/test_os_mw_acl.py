"""Container and account ACL parsing, formatting and referrer matching."""
from __future__ import annotations

import json

import pytest

from objectstore.middleware import acl


@pytest.mark.parametrize("value, cleaned", [
    (" .r:* , .rlistings ", ".r:*,.rlistings"),
    (".ref:example.com", ".r:example.com"),
    (".referrer: *.example.com", ".r:.example.com"),
    (".R:-bad.com", ".r:-bad.com"),
    (".r:- bad.com", ".r:-bad.com"),
    ("p1:u1,,p2:*", "p1:u1,p2:*"),
    ("*:*,member", "*:*,member"),
])
def test_clean_read_acl(value, cleaned):
    assert acl.clean_acl("X-Container-Read", value) == cleaned


@pytest.mark.parametrize("value", [".r:", ".r:-", ".unknown:x", ".r"])
def test_clean_rejects_bad_items(value):
    with pytest.raises(ValueError):
        acl.clean_acl("X-Container-Read", value)


def test_referrers_not_allowed_in_write_acl():
    with pytest.raises(ValueError):
        acl.clean_acl("X-Container-Write", ".r:*")
    assert acl.clean_acl("X-Container-Write", "p:u, p2:*") == "p:u,p2:*"


def test_parse_and_format_round_trip():
    referrers, grants = acl.parse_acl(".r:*,.r:-bad.com,.rlistings,p1:u1,member")
    assert referrers == ["*", "-bad.com"]
    assert grants == [".rlistings", "p1:u1", "member"]
    assert acl.format_acl(referrers, grants) == ".r:*,.r:-bad.com,.rlistings,p1:u1,member"
    assert acl.parse_acl(None) == ([], [])
    assert acl.parse_acl("") == ([], [])


@pytest.mark.parametrize("referrer, rules, allowed", [
    (None, ["*"], True),
    ("http://anything.org/page", ["*"], True),
    ("http://example.com/x", ["example.com"], True),
    ("http://www.example.com/x", ["example.com"], False),
    ("http://www.example.com/x", [".example.com"], True),
    ("http://example.com/x", [".example.com"], False),
    ("http://bad.com/", ["*", "-bad.com"], False),
    ("http://good.com/", ["*", "-bad.com"], True),
    ("http://bad.com/", ["-bad.com", "*"], True),   # the last matching rule decides
    ("http://a.bad.com/", ["*", "-.bad.com"], False),
    (None, ["example.com"], False),
    ("http://example.com/", [], False),
    ("http://EXAMPLE.com:8080/", ["example.com"], True),
])
def test_referrer_allowed(referrer, rules, allowed):
    assert acl.referrer_allowed(referrer, rules) is allowed


def test_account_acl_parse_and_format():
    value = json.dumps({"admin": ["a:admin"], "read-only": ["*:*"]})
    parsed = acl.parse_account_acl(value)
    assert parsed == {"admin": ["a:admin"], "read-write": [], "read-only": ["*:*"]}
    assert json.loads(acl.format_account_acl(parsed)) == {"admin": ["a:admin"],
                                                          "read-only": ["*:*"]}
    assert acl.parse_account_acl("") is None
    assert acl.parse_account_acl(None) is None


@pytest.mark.parametrize("value", ["not json", "[]", '{"owner": []}', '{"admin": "x"}',
                                   '{"read-only": [1]}'])
def test_account_acl_rejects(value):
    with pytest.raises(ValueError):
        acl.parse_account_acl(value)
