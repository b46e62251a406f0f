"""GET /v2/images: visibility rules, filters, sorting, pagination."""
from __future__ import annotations

import urllib.parse
from typing import Any

import pytest
from image_api_helpers import Api, check_error, project, unique

ADMIN = "admin,member,reader"


@pytest.fixture(scope="module")
def world(api: Api) -> dict[str, Any]:
    """Project ``me`` and another project ``them`` with images of every kind."""
    me, them = project(), project()
    ids: dict[str, str] = {"me": me, "them": them}

    def make(key: str, owner: str, **fields: Any) -> None:
        roles = ADMIN if fields.get("visibility") == "public" else None
        ids[key] = api.create(owner, roles=roles, name=key, **fields)["id"]

    make("my_private", me, visibility="private")
    make("my_shared", me, visibility="shared")
    make("my_community", me, visibility="community")
    make("my_public", me, visibility="public")
    make("my_hidden", me, visibility="private", os_hidden=True)
    make("their_private", them, visibility="private")
    make("their_community", them, visibility="community")
    make("their_public", them, visibility="public")
    make("their_unshared", them, visibility="shared")
    for status in ("accepted", "pending", "rejected"):
        key = "their_shared_" + status
        make(key, them, visibility="shared")
        api.add_member(them, ids[key], me)
        if status != "pending":
            api.set_member_status(me, ids[key], me, status)
    return ids


def _names(api: Api, caller: str, query: str = "", roles: str | None = None) -> set[str]:
    found = set()
    for _page, image in _walk(api, caller, query, roles):
        found.add(image["name"])
    return found


def _walk(api: Api, caller: str, query: str, roles: str | None = None
          ) -> list[tuple[int, dict[str, Any]]]:
    """Every image of a listing, following ``next`` links."""
    out: list[tuple[int, dict[str, Any]]] = []
    path: str | None = "/v2/images" + ("?" + query if query else "")
    page = 0
    while path is not None and page < 100:
        body = api.call("GET", path, caller, roles=roles, status=200).json
        out.extend((page, image) for image in body["images"])
        path = body.get("next")
        page += 1
    assert path is None, "too many pages"
    return out


ALL_KEYS = ("my_private", "my_shared", "my_community", "my_public", "my_hidden",
            "their_private", "their_community", "their_public", "their_unshared",
            "their_shared_accepted", "their_shared_pending", "their_shared_rejected")


def _mine(world: dict[str, Any], names: set[str]) -> set[str]:
    """The names of ``world``'s images among ``names`` (others' public images are noise)."""
    return names & set(ALL_KEYS)


def test_listing_shape(api: Api, world: dict[str, Any]) -> None:
    resp = api.call("GET", "/v2/images", world["me"], status=200)
    assert resp.content_type == "application/json"
    body = resp.json
    assert body["first"] == "/v2/images"
    assert body["schema"] == "/v2/schemas/images"
    assert isinstance(body["images"], list)
    for image in body["images"]:
        assert image["self"] == "/v2/images/%s" % image["id"]


def test_default_listing_visibility(api: Api, world: dict[str, Any]) -> None:
    names = _mine(world, _names(api, world["me"]))
    assert names == {"my_private", "my_shared", "my_community", "my_public",
                     "their_public", "their_shared_accepted"}


def test_default_listing_of_a_stranger(api: Api, world: dict[str, Any]) -> None:
    assert _mine(world, _names(api, project())) == {"my_public", "their_public"}


def test_community_only_with_visibility_community(api: Api, world: dict[str, Any]) -> None:
    names = _mine(world, _names(api, world["me"], "visibility=community"))
    assert names == {"my_community", "their_community"}
    assert _mine(world, _names(api, project(), "visibility=community")) == {
        "my_community", "their_community"}


def test_visibility_filters(api: Api, world: dict[str, Any]) -> None:
    me = world["me"]
    assert _mine(world, _names(api, me, "visibility=public")) == {"my_public",
                                                                  "their_public"}
    assert _mine(world, _names(api, me, "visibility=private")) == {"my_private"}
    assert _mine(world, _names(api, me, "visibility=shared")) == {
        "my_shared", "their_shared_accepted"}


def test_visibility_all(api: Api, world: dict[str, Any]) -> None:
    assert _mine(world, _names(api, world["me"], "visibility=all")) == _mine(
        world, _names(api, world["me"]))


def test_os_hidden(api: Api, world: dict[str, Any]) -> None:
    me = world["me"]
    assert "my_hidden" not in _names(api, me)
    assert "my_hidden" not in _names(api, me, "os_hidden=false")
    assert _mine(world, _names(api, me, "os_hidden=true")) == {"my_hidden"}


@pytest.mark.parametrize("member_status,expected", [
    ("pending", {"their_shared_pending"}), ("rejected", {"their_shared_rejected"}),
    ("accepted", {"their_shared_accepted"}),
    ("all", {"their_shared_accepted", "their_shared_pending", "their_shared_rejected"}),
])
def test_member_status_filter(api: Api, world: dict[str, Any], member_status: str,
                              expected: set[str]) -> None:
    names = _mine(world, _names(api, world["me"], "member_status=" + member_status))
    assert {n for n in names if n.startswith("their_shared")} == expected
    assert "their_unshared" not in names and "their_private" not in names


def test_member_status_with_visibility_shared(api: Api, world: dict[str, Any]) -> None:
    names = _mine(world, _names(api, world["me"], "visibility=shared&member_status=all"))
    assert {"their_shared_accepted", "their_shared_pending",
            "their_shared_rejected"} <= names
    assert "their_unshared" not in names


def test_admin_sees_other_projects_private_images(api: Api, world: dict[str, Any]) -> None:
    names = _names(api, project(), "owner=%s" % world["them"], roles=ADMIN)
    assert "their_private" in names and "their_unshared" in names


def test_owner_filter(api: Api, world: dict[str, Any]) -> None:
    names = _mine(world, _names(api, world["me"], "owner=" + world["them"]))
    assert names == {"their_public", "their_shared_accepted"}
    names = _mine(world, _names(api, world["me"], "owner=" + world["me"]))
    assert names == {"my_private", "my_shared", "my_community", "my_public"}


def test_name_filter(api: Api, world: dict[str, Any]) -> None:
    assert api.list_ids(world["me"], "name=my_private") == [world["my_private"]]
    assert api.list_ids(world["me"], "name=their_private") == []
    assert api.list_ids(world["me"], "name=nothing-is-called-this") == []


def test_status_filter(api: Api, world: dict[str, Any]) -> None:
    me = world["me"]
    assert _mine(world, _names(api, me, "status=queued&owner=" + me)) == {
        "my_private", "my_shared", "my_community", "my_public"}
    assert _mine(world, _names(api, me, "status=active&owner=" + me)) == set()


# -- filters on images of a project of their own ------------------------------------

@pytest.fixture(scope="module")
def catalog(api: Api) -> dict[str, Any]:
    """A project with a handful of private images differing in every attribute."""
    pid = project()
    specs = [
        dict(name="alpha", disk_format="raw", container_format="bare", tags=["red"],
             protected=False, min_disk=1, min_ram=64, flavor="small"),
        dict(name="bravo", disk_format="qcow2", container_format="bare",
             tags=["red", "blue"], protected=True, min_disk=2, min_ram=32, flavor="big"),
        dict(name="charlie", disk_format="qcow2", container_format="ovf", tags=["blue"],
             protected=False, min_disk=3, min_ram=16, flavor="small"),
        dict(name="delta", disk_format="iso", container_format="bare", tags=[],
             protected=False, min_disk=0, min_ram=128),
        dict(name="a,b", disk_format="vmdk", container_format="ova"),
    ]
    images = {}
    for spec in specs:
        image = api.create(pid, visibility="private", **spec)
        images[image["name"]] = image
    return {"project": pid, "images": images}


def _cat(api: Api, catalog: dict[str, Any], query: str) -> list[str]:
    pid = catalog["project"]
    path = "owner=%s" % pid + ("&" + query if query else "")
    return [image["name"] for _p, image in _walk(api, pid, path)]


def test_tag_filter(api: Api, catalog: dict[str, Any]) -> None:
    assert sorted(_cat(api, catalog, "tag=red")) == ["alpha", "bravo"]
    assert sorted(_cat(api, catalog, "tag=blue")) == ["bravo", "charlie"]
    assert _cat(api, catalog, "tag=red&tag=blue") == ["bravo"]
    assert _cat(api, catalog, "tag=green") == []


def test_format_filters(api: Api, catalog: dict[str, Any]) -> None:
    assert sorted(_cat(api, catalog, "disk_format=qcow2")) == ["bravo", "charlie"]
    assert sorted(_cat(api, catalog, "container_format=bare")) == ["alpha", "bravo",
                                                                   "delta"]
    assert _cat(api, catalog, "disk_format=qcow2&container_format=ovf") == ["charlie"]
    assert sorted(_cat(api, catalog, "disk_format=in:raw,iso")) == ["alpha", "delta"]
    assert sorted(_cat(api, catalog, "container_format=in:ovf,ova")) == ["a,b", "charlie"]


def test_protected_filter(api: Api, catalog: dict[str, Any]) -> None:
    assert _cat(api, catalog, "protected=true") == ["bravo"]
    assert sorted(_cat(api, catalog, "protected=false")) == ["a,b", "alpha", "charlie",
                                                             "delta"]


def test_id_in_filter(api: Api, catalog: dict[str, Any]) -> None:
    images = catalog["images"]
    wanted = [images["alpha"]["id"], images["delta"]["id"]]
    assert sorted(_cat(api, catalog, "id=in:" + ",".join(wanted))) == ["alpha", "delta"]
    assert _cat(api, catalog, "id=" + images["bravo"]["id"]) == ["bravo"]


def test_name_in_filter(api: Api, catalog: dict[str, Any]) -> None:
    assert sorted(_cat(api, catalog, "name=in:alpha,charlie,zulu")) == ["alpha", "charlie"]


def test_name_in_filter_with_quoted_comma(api: Api, catalog: dict[str, Any]) -> None:
    query = "name=" + urllib.parse.quote('in:"a,b",delta')
    assert sorted(_cat(api, catalog, query)) == ["a,b", "delta"]


def test_custom_property_filter(api: Api, catalog: dict[str, Any]) -> None:
    assert sorted(_cat(api, catalog, "flavor=small")) == ["alpha", "charlie"]
    assert _cat(api, catalog, "flavor=big") == ["bravo"]
    assert _cat(api, catalog, "flavor=none-such") == []


def test_time_filters(api: Api, catalog: dict[str, Any]) -> None:
    everything = sorted(_cat(api, catalog, ""))
    assert len(everything) == 5
    for key in ("created_at", "updated_at"):
        assert sorted(_cat(api, catalog, key + "=gt:2000-01-01T00:00:00Z")) == everything
        assert _cat(api, catalog, key + "=lt:2000-01-01T00:00:00Z") == []
        assert sorted(_cat(api, catalog, key + "=lt:2999-01-01T00:00:00Z")) == everything
        assert _cat(api, catalog, key + "=gt:2999-01-01T00:00:00Z") == []
        assert sorted(_cat(api, catalog, key + "=gte:2000-01-01T00:00:00Z")) == everything
        assert sorted(_cat(api, catalog, key + "=neq:2000-01-01T00:00:00Z")) == everything


@pytest.mark.parametrize("query", [
    "created_at=2020-01-01T00:00:00Z", "created_at=gt:", "created_at=gt:yesterday",
    "created_at=after:2020-01-01T00:00:00Z", "updated_at=lt:2020-13-45T00:00:00Z",
])
def test_bad_time_filter_is_400(api: Api, query: str) -> None:
    check_error(api.call("GET", "/v2/images?" + query, project()), 400)


@pytest.mark.parametrize("query", [
    "size_min=abc", "size_max=-1", "protected=maybe", "os_hidden=perhaps",
    "visibility=everyone", "member_status=maybe", "limit=abc", "limit=-1",
    "sort_key=bogus", "sort_dir=up", "sort=name:up", "sort=bogus:asc",
    "sort_key=name&sort=name:asc",
    "sort_key=name&sort_key=status&sort_dir=asc&sort_dir=desc&sort_dir=asc",
])
def test_bad_query_is_400(api: Api, query: str) -> None:
    check_error(api.call("GET", "/v2/images?" + query, project()), 400)


def test_unknown_marker_is_400(api: Api) -> None:
    check_error(api.call("GET", "/v2/images?marker=00000000-0000-0000-0000-000000000000",
                         project()), 400)
    check_error(api.call("GET", "/v2/images?marker=not-an-id", project()), 400)


# -- sorting --------------------------------------------------------------------------

def test_sort_key_and_dir(api: Api, catalog: dict[str, Any]) -> None:
    names = sorted(catalog["images"])
    assert _cat(api, catalog, "sort_key=name&sort_dir=asc") == names
    assert _cat(api, catalog, "sort_key=name&sort_dir=desc") == names[::-1]
    by_id = sorted(catalog["images"].values(), key=lambda i: i["id"])
    assert _cat(api, catalog, "sort_key=id&sort_dir=asc") == [i["name"] for i in by_id]
    assert _cat(api, catalog, "sort_key=id&sort_dir=desc") == [i["name"] for i in by_id][::-1]
    # One sort_dir applies to every sort_key; the default direction is desc.
    got = _cat(api, catalog, "sort_key=container_format&sort_key=name")
    by_cf = sorted(catalog["images"].values(), key=lambda i: (i["container_format"],
                                                              i["name"]), reverse=True)
    assert got == [i["name"] for i in by_cf]


def test_sort_by_several_keys(api: Api, catalog: dict[str, Any]) -> None:
    got = _cat(api, catalog, "sort_key=disk_format&sort_key=name&sort_dir=asc&sort_dir=desc")
    images = catalog["images"].values()
    expected = sorted(images, key=lambda i: i["name"], reverse=True)
    expected = sorted(expected, key=lambda i: i["disk_format"])
    assert got == [i["name"] for i in expected]


def test_sort_parameter(api: Api, catalog: dict[str, Any]) -> None:
    names = sorted(catalog["images"])
    assert _cat(api, catalog, "sort=name:asc") == names
    assert _cat(api, catalog, "sort=name:desc") == names[::-1]
    got = _cat(api, catalog, "sort=container_format:asc,name:desc")
    images = sorted(catalog["images"].values(), key=lambda i: i["name"], reverse=True)
    images = sorted(images, key=lambda i: i["container_format"])
    assert got == [i["name"] for i in images]
    assert sorted(_cat(api, catalog, "sort=name:asc,created_at:desc")) == names


def test_default_sort_direction_is_desc(api: Api, catalog: dict[str, Any]) -> None:
    names = sorted(catalog["images"], reverse=True)
    assert _cat(api, catalog, "sort=name") == names
    assert _cat(api, catalog, "sort_key=name") == names


def test_default_sort_is_newest_first(api: Api) -> None:
    pid = project()
    made = [api.create(pid, visibility="private", name="n%d" % i)["id"] for i in range(3)]
    listed = api.list_ids(pid, "owner=" + pid)
    assert sorted(listed) == sorted(made)
    created = [api.show(pid, i)["created_at"] for i in listed]
    assert created == sorted(created, reverse=True)


# -- pagination -----------------------------------------------------------------------

def test_pagination_walks_every_image_once(api: Api) -> None:
    pid = project()
    tag = unique("page")
    made = {api.create(pid, visibility="private", tags=[tag])["id"] for _ in range(7)}
    for query in ("limit=3&tag=" + tag, "limit=2&sort_key=name&sort_dir=asc&tag=" + tag,
                  "limit=1&sort=created_at:asc&tag=" + tag, "limit=7&tag=" + tag,
                  "limit=100&tag=" + tag):
        pages = _walk(api, pid, query)
        ids = [image["id"] for _page, image in pages]
        assert sorted(ids) == sorted(made), query
        limit = int(query.split("&")[0].split("=")[1])
        per_page: dict[int, int] = {}
        for page, _image in pages:
            per_page[page] = per_page.get(page, 0) + 1
        assert all(count <= limit for count in per_page.values()), query


def test_next_link_keeps_filters_and_limit(api: Api) -> None:
    pid = project()
    tag = unique("next")
    for _ in range(3):
        api.create(pid, visibility="private", tags=[tag])
    body = api.list(pid, "limit=2&tag=" + tag)
    assert len(body["images"]) == 2
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(body["next"]).query)
    assert query["limit"] == ["2"] and query["tag"] == [tag]
    assert query["marker"] == [body["images"][-1]["id"]]
    assert body["next"].startswith("/v2/images?")


def test_last_page_has_no_next(api: Api) -> None:
    pid = project()
    tag = unique("last")
    api.create(pid, visibility="private", tags=[tag])
    body = api.list(pid, "limit=5&tag=" + tag)
    assert len(body["images"]) == 1
    assert "next" not in body


def test_marker_of_a_visible_image(api: Api) -> None:
    pid = project()
    tag = unique("mk")
    ids = [api.create(pid, visibility="private", tags=[tag], name="m%d" % i)["id"]
           for i in range(4)]
    listed = api.list_ids(pid, "sort_key=name&sort_dir=asc&tag=" + tag)
    assert listed == ids
    after = api.list_ids(pid, "sort_key=name&sort_dir=asc&tag=%s&marker=%s" % (tag, ids[1]))
    assert after == ids[2:]


def test_marker_of_an_invisible_image_is_refused(api: Api) -> None:
    hidden = api.create(project(), visibility="private")["id"]
    check_error(api.call("GET", "/v2/images?marker=" + hidden, project()), 403)


def test_first_link_keeps_the_query(api: Api) -> None:
    assert api.list(project())["first"] == "/v2/images"


def test_first_link_keeps_filters(api: Api) -> None:
    body = api.list(project(), "limit=2&name=x")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(body["first"]).query)
    assert query == {"limit": ["2"], "name": ["x"]}


def test_changes_since_is_400(api: Api) -> None:
    check_error(api.call("GET", "/v2/images?changes-since=2020-01-01T00:00:00Z", project()),
                400)


def test_limit_is_capped_not_refused(api: Api) -> None:
    api.list(project(), "limit=100000")


def test_list_without_token_is_401(api: Api) -> None:
    check_error(api.call("GET", "/v2/images", None), 401)
