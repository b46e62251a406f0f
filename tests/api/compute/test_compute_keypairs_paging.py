"""os-keypairs paging from microversion 2.35: ``limit`` and ``marker`` (a key
pair's name), ``keypairs_links`` when a page is full (as long as the limit
asked for, or max_limit), with the admin's ``user_id`` (2.10) kept in the next
link."""
from __future__ import annotations

import uuid
from urllib import parse

import compute_admin_helpers as helpers
from compute_admin_helpers import MvApi
from compute_api_helpers import ADMIN_ROLES, message, project

# The helpers' fixtures, used by name.
latest, mv = helpers.latest, helpers.mv

URL = "/v2.1/os-keypairs"
SERVICE_CONF = {"compute_api": {"max_limit": 3}}


def _make(mv: MvApi, p: str, count: int) -> list[str]:
    names = sorted("k%d-%s" % (i, uuid.uuid4().hex[:6]) for i in range(count))
    for name in reversed(names):  # created out of order: the list sorts by name
        mv.at("2.35", "POST", URL, p, roles="member", status=201,
              json_body={"keypair": {"name": name}})
    return names


def _names(resp: object) -> list[str]:
    return [k["keypair"]["name"] for k in resp.json["keypairs"]]  # type: ignore[attr-defined]


def test_limit_marker_and_next_link(mv: MvApi) -> None:
    p = project()
    names = _make(mv, p, 3)
    resp = mv.at("2.35", "GET", URL + "?limit=2", p, roles="member", status=200)
    assert _names(resp) == names[:2]
    [link] = resp.json["keypairs_links"]
    assert link["rel"] == "next"
    href = parse.urlparse(link["href"])
    assert href.path == URL
    assert parse.parse_qs(href.query) == {"limit": ["2"], "marker": [names[1]]}
    following = mv.at("2.35", "GET", "%s?%s" % (URL, href.query), p, roles="member",
                      status=200)
    assert _names(following) == names[2:]
    assert "keypairs_links" not in following.json
    # The marker alone pages; a page shorter than max_limit has no link.
    resp = mv.at("2.35", "GET", URL + "?marker=" + names[0], p, roles="member", status=200)
    assert _names(resp) == names[1:] and "keypairs_links" not in resp.json
    # A page of max_limit (no limit, or a larger one) has a link.
    for query in ("", "?limit=5"):
        resp = mv.at("2.35", "GET", URL + query, p, roles="member", status=200)
        assert _names(resp) == names
        href = resp.json["keypairs_links"][0]["href"]
        assert parse.parse_qs(parse.urlparse(href).query)["marker"] == [names[2]]
    assert _names(mv.at("2.35", "GET", URL + "?limit=0", p, roles="member",
                        status=200)) == []


def test_bad_paging_parameters_are_400(mv: MvApi) -> None:
    p = project()
    _make(mv, p, 1)
    resp = mv.at("2.35", "GET", URL + "?marker=nope", p, roles="member", status=400)
    assert message(resp) == "Marker nope could not be found."
    mv.at("2.35", "GET", URL + "?limit=-1", p, roles="member", status=400)
    mv.at("2.35", "GET", URL + "?limit=two", p, roles="member", status=400)


def test_before_235_paging_parameters_mean_nothing(mv: MvApi) -> None:
    p = project()
    names = _make(mv, p, 2)
    resp = mv.at("2.34", "GET", URL + "?limit=1&marker=nope", p, roles="member",
                 status=200)
    assert _names(resp) == names and "keypairs_links" not in resp.json


def test_admin_pages_another_users_key_pairs(mv: MvApi) -> None:
    p = project()
    names = _make(mv, p, 3)
    user = "user-" + p
    resp = mv.at("2.35", "GET", "%s?user_id=%s&limit=1&marker=%s" % (URL, user, names[0]),
                 roles=ADMIN_ROLES, status=200)
    assert _names(resp) == [names[1]]
    query = parse.parse_qs(parse.urlparse(resp.json["keypairs_links"][0]["href"]).query)
    assert query == {"user_id": [user], "limit": ["1"], "marker": [names[1]]}
