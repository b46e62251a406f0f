"""Flavors: create, show, list/detail with filters, sorting and paging, delete."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from compute_api_helpers import Api, message, project

DETAIL_KEYS = {"id", "name", "links", "ram", "disk", "vcpus", "OS-FLV-EXT-DATA:ephemeral",
               "OS-FLV-DISABLED:disabled", "swap", "rxtx_factor",
               "os-flavor-access:is_public"}


def _name() -> str:
    return "f-" + uuid.uuid4().hex[:10]


def test_create_with_all_fields_and_show(api: Api) -> None:
    name = _name()
    flavor = api.create_flavor(name, id=name + "-id", ram="2048", vcpus=2, disk=20,
                               swap=512, rxtx_factor="2.5",
                               **{"OS-FLV-EXT-DATA:ephemeral": 5,
                                  "os-flavor-access:is_public": "true"})
    assert set(flavor) == DETAIL_KEYS
    assert flavor["id"] == name + "-id" and flavor["ram"] == 2048 and flavor["vcpus"] == 2
    assert flavor["disk"] == 20 and flavor["swap"] == 512 and flavor["rxtx_factor"] == 2.5
    assert flavor["OS-FLV-EXT-DATA:ephemeral"] == 5
    assert flavor["os-flavor-access:is_public"] is True
    assert flavor["links"] == [
        {"rel": "self", "href": "http://localhost/v2.1/flavors/%s-id" % name},
        {"rel": "bookmark", "href": "http://localhost/flavors/%s-id" % name}]
    shown = api.call("GET", "/v2.1/flavors/" + flavor["id"], project(), status=200)
    assert shown.json["flavor"] == flavor


def test_create_defaults_and_generated_id(api: Api) -> None:
    flavor = api.create_flavor(id=None)
    uuid.UUID(flavor["id"])
    assert flavor["swap"] == "" and flavor["rxtx_factor"] == 1.0
    assert flavor["OS-FLV-EXT-DATA:ephemeral"] == 0
    assert flavor["OS-FLV-DISABLED:disabled"] is False
    assert uuid.UUID(api.create_flavor()["id"])


def test_integer_id_becomes_a_string(api: Api) -> None:
    flavor = api.create_flavor(id=987654)
    assert flavor["id"] == "987654"


def test_duplicates_conflict(api: Api) -> None:
    flavor = api.create_flavor(id=_name())
    resp = api.create_flavor(flavor["name"], status=409)
    assert "already exists" in message(resp)
    resp = api.create_flavor(id=flavor["id"], status=409)
    assert flavor["id"] in message(resp)


def test_delete(api: Api) -> None:
    flavor = api.create_flavor()
    api.admin("DELETE", "/v2.1/flavors/" + flavor["id"], status=202)
    api.admin("GET", "/v2.1/flavors/" + flavor["id"], status=404)
    api.admin("DELETE", "/v2.1/flavors/" + flavor["id"], status=404)
    # The name is free again.
    api.create_flavor(flavor["name"])


def test_unknown_flavor_is_404(api: Api) -> None:
    resp = api.call("GET", "/v2.1/flavors/does-not-exist", project(), status=404)
    assert message(resp) == "Flavor does-not-exist could not be found."


@pytest.mark.parametrize("roles", ["member,reader", "reader"])
def test_non_admin_cannot_manage(api: Api, roles: str) -> None:
    body = {"flavor": {"name": _name(), "ram": 1, "vcpus": 1, "disk": 0}}
    api.call("POST", "/v2.1/flavors", project(), roles=roles, json_body=body, status=403)
    flavor = api.create_flavor()
    api.call("DELETE", "/v2.1/flavors/" + flavor["id"], project(), roles=roles, status=403)


def test_reader_and_member_list(api: Api) -> None:
    flavor = api.create_flavor()
    for roles in ("reader", "member"):
        ids = [f["id"] for f in api.call("GET", "/v2.1/flavors", project(), roles=roles,
                                         status=200).json["flavors"]]
        assert flavor["id"] in ids
    api.call("GET", "/v2.1/flavors", project(), roles="other", status=403)


def _ids(api: Api, query: str, project_id: str | None = None, **kwargs: Any) -> list[str]:
    if project_id is None:
        resp = api.admin("GET", "/v2.1/flavors" + query, status=200)
    else:
        resp = api.call("GET", "/v2.1/flavors" + query, project_id, status=200, **kwargs)
    return [f["id"] for f in resp.json["flavors"]]


def test_list_basic_and_detail_views(api: Api) -> None:
    flavor = api.create_flavor()
    basic = api.call("GET", "/v2.1/flavors", project(), status=200).json["flavors"]
    entry = next(f for f in basic if f["id"] == flavor["id"])
    assert set(entry) == {"id", "name", "links"}
    detail = api.call("GET", "/v2.1/flavors/detail", project(), status=200).json["flavors"]
    assert next(f for f in detail if f["id"] == flavor["id"]) == flavor


def test_min_ram_and_min_disk(api: Api) -> None:
    big = api.create_flavor(ram=65536, disk=500)
    small = api.create_flavor(ram=64, disk=0)
    ids = _ids(api, "?minRam=65536")
    assert big["id"] in ids and small["id"] not in ids
    ids = _ids(api, "/detail?minDisk=500")
    assert big["id"] in ids and small["id"] not in ids
    ids = _ids(api, "?minRam=1&minDisk=0")
    assert big["id"] in ids and small["id"] in ids


def test_sort_and_paging(api: Api) -> None:
    made = [api.create_flavor(id="page-%d" % i, ram=70000 + i) for i in range(5)]
    ids = _ids(api, "?minRam=70000&sort_key=memory_mb&sort_dir=desc")
    assert ids == [f["id"] for f in reversed(made)]
    resp = api.admin("GET", "/v2.1/flavors/detail?minRam=70000&sort_key=memory_mb&limit=2",
                     status=200)
    assert [f["id"] for f in resp.json["flavors"]] == ["page-0", "page-1"]
    (link,) = resp.json["flavors_links"]
    assert link["rel"] == "next" and link["href"].startswith(
        "http://localhost/v2.1/flavors/detail?")
    assert "marker=page-1" in link["href"] and "limit=2" in link["href"]
    query = link["href"].split("?", 1)[1]
    resp = api.admin("GET", "/v2.1/flavors/detail?" + query, status=200)
    assert [f["id"] for f in resp.json["flavors"]] == ["page-2", "page-3"]
    last = api.admin("GET", "/v2.1/flavors?minRam=70000&limit=5", status=200).json
    assert len(last["flavors"]) == 5 and "flavors_links" in last
    tail = api.admin("GET", "/v2.1/flavors?minRam=70000&limit=5&marker=page-2",
                     status=200).json
    assert [f["id"] for f in tail["flavors"]] == ["page-3", "page-4"]
    assert "flavors_links" not in tail
    assert _ids(api, "?minRam=70000&limit=0") == []


def test_private_flavors_are_hidden_from_other_projects(api: Api) -> None:
    private = api.create_flavor(**{"os-flavor-access:is_public": False})
    assert private["os-flavor-access:is_public"] is False
    outsider = project()
    assert private["id"] not in _ids(api, "", outsider)
    api.call("GET", "/v2.1/flavors/" + private["id"], outsider, status=404)
    # Admins: public by default (with their own project's private ones), all with
    # is_public=none, private only with is_public=false.
    assert private["id"] not in _ids(api, "")
    assert private["id"] in _ids(api, "?is_public=none")
    false_ids = _ids(api, "?is_public=false")
    assert private["id"] in false_ids
    public = api.create_flavor()
    assert public["id"] not in false_ids and public["id"] in _ids(api, "?is_public=true")
    api.admin("GET", "/v2.1/flavors/" + private["id"], status=200)
    # A non-admin's is_public filter is ignored: public and shared flavors only.
    assert private["id"] not in _ids(api, "?is_public=none", outsider)
    api.admin("POST", "/v2.1/flavors/%s/action" % private["id"],
              json_body={"addTenantAccess": {"tenant": outsider}}, status=200)
    assert private["id"] in _ids(api, "", outsider)
    api.call("GET", "/v2.1/flavors/" + private["id"], outsider, status=200)
    assert private["id"] not in _ids(api, "")
