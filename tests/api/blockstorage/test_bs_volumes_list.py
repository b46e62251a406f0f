"""Volume lists: filters, sorting, paging links, counts and the summary."""
from __future__ import annotations

from typing import Iterator
from urllib import parse

import pytest
import webtest

from tests.fixtures import blockstorage as fx


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[fx.BlockStorageService]:
    service = fx.BlockStorageService(fx.make_conf(str(tmp_path_factory.mktemp("bs"))))
    service.add_service(zone="nova")
    service.add_service(host="node2@file", zone="zone-b")
    yield service
    service.stop()


@pytest.fixture(scope="module")
def api(svc: fx.BlockStorageService) -> fx.Api:
    return fx.Api(webtest.TestApp(svc.pipeline))


@pytest.fixture(scope="module")
def listed(svc: fx.BlockStorageService, api: fx.Api) -> tuple[str, list[dict]]:
    """A project with four volumes of different names, sizes, zones and metadata."""
    project = fx.project()
    made = [fx.available(svc, api, project, name="v%d" % i, size=i + 1,
                         metadata={"Type": "work" if i % 2 else "home"})
            for i in range(3)]
    made.append(api.create_volume(project, name="other", size=4,
                                  availability_zone="zone-b"))
    svc.set_volume(made[1]["id"], bootable=True)
    return project, made


def _ids(resp: webtest.TestResponse) -> list[str]:
    return [v["id"] for v in resp.json["volumes"]]


def test_list_and_detail(api: fx.Api, listed: tuple[str, list[dict]]) -> None:
    project, made = listed
    resp = api.v3("GET", "/volumes", project, status=200)
    fx.check_schema(fx.tempest_schema("volumes", "list_volumes_no_detail"), resp)
    assert sorted(_ids(resp)) == sorted(v["id"] for v in made)
    assert set(resp.json["volumes"][0]) == {"id", "name", "links"}
    # Newest first by default.
    assert _ids(resp)[0] == made[-1]["id"]
    detail = api.v3("GET", "/volumes/detail", project, status=200)
    fx.check_schema(fx.tempest_schema("volumes", "list_volumes_with_detail"), detail)
    assert "volumes_links" not in detail.json
    assert api.v3("GET", "/volumes", fx.project(), status=200).json["volumes"] == []


@pytest.mark.parametrize("query,names", [
    ("name=v1", ["v1"]), ("status=available", ["v0", "v1", "v2"]),
    ("status=bogus", []), ("bootable=true", ["v1"]), ("bootable=false", ["v0", "v2", "other"]),
    ("availability_zone=zone-b", ["other"]),
    ("metadata=%s" % parse.quote("{'Type': 'work'}"), ["v1"]),
    ("metadata=%s" % parse.quote('{"Type": "home"}'), ["v0", "v2"]),
    ("name=v1&status=available", ["v1"]), ("size=3", ["v2"])])
def test_filters(api: fx.Api, listed: tuple[str, list[dict]], query: str,
                 names: list[str]) -> None:
    project, _ = listed
    resp = api.v3("GET", "/volumes/detail?" + query, project, status=200)
    assert sorted(v["name"] for v in resp.json["volumes"]) == sorted(names)


def test_like_filter_from_334(api: fx.Api, listed: tuple[str, list[dict]]) -> None:
    project, _ = listed
    resp = api.v3("GET", "/volumes?name~=v", project, version="3.34", status=200)
    assert sorted(v["name"] for v in resp.json["volumes"]) == ["v0", "v1", "v2"]


def test_unknown_filter_is_refused_for_users(api: fx.Api,
                                             listed: tuple[str, list[dict]]) -> None:
    project, _ = listed
    resp = api.v3("GET", "/volumes?host=x", project, status=400)
    assert "host" in resp.json["badRequest"]["message"]


def test_sorting(api: fx.Api, listed: tuple[str, list[dict]]) -> None:
    project, made = listed
    resp = api.v3("GET", "/volumes/detail?sort_key=size&sort_dir=asc", project, status=200)
    assert [v["size"] for v in resp.json["volumes"]] == [1, 2, 3, 4]
    resp = api.v3("GET", "/volumes/detail?sort=name:desc", project, status=200)
    assert [v["name"] for v in resp.json["volumes"]] == ["v2", "v1", "v0", "other"]
    resp = api.v3("GET", "/volumes?sort_key=id&sort_dir=asc&limit=2&status=available",
                  project, status=200)
    ids = _ids(resp)
    assert len(ids) == 2 and ids[0] < ids[1]
    api.v3("GET", "/volumes?sort=bogus:asc", project, status=400)
    api.v3("GET", "/volumes?sort=size:sideways", project, status=400)
    api.v3("GET", "/volumes?sort=size&sort_key=id", project, status=400)


def test_paging_follows_next_links(api: fx.Api, listed: tuple[str, list[dict]]) -> None:
    project, made = listed
    seen: list[str] = []
    url = "/v3/%s/volumes/detail?limit=2" % project
    pages = 0
    while url:
        resp = api.call("GET", url, project, user=project[::-1], status=200)
        seen += _ids(resp)
        links = resp.json.get("volumes_links", [])
        url = ""
        if links:
            href = parse.urlparse(links[0]["href"])
            assert href.path == "/v3/%s/volumes/detail" % project
            url = href.path + "?" + href.query
        pages += 1
    # Four volumes by two: the second page is full, so a third (empty) is linked.
    assert pages == 3 and sorted(seen) == sorted(v["id"] for v in made)


def test_marker_and_offset(api: fx.Api, listed: tuple[str, list[dict]]) -> None:
    project, _ = listed
    every = _ids(api.v3("GET", "/volumes", project, status=200))
    after = _ids(api.v3("GET", "/volumes?marker=%s" % every[1], project, status=200))
    assert after == every[2:]
    assert _ids(api.v3("GET", "/volumes?offset=3", project, status=200)) == every[3:]
    api.v3("GET", "/volumes?marker=%s" % ("0" * 36), project, status=404)
    api.v3("GET", "/volumes?limit=-1", project, status=400)
    api.v3("GET", "/volumes?offset=x", project, status=400)


def test_count_from_345(api: fx.Api, listed: tuple[str, list[dict]]) -> None:
    project, _ = listed
    resp = api.v3("GET", "/volumes?with_count=true&limit=1", project, version="3.45",
                  status=200)
    assert resp.json["count"] == 4 and len(resp.json["volumes"]) == 1
    resp = api.v3("GET", "/volumes?with_count=true", project, version="3.44", status=200)
    assert "count" not in resp.json


def test_summary(api: fx.Api, listed: tuple[str, list[dict]]) -> None:
    project, _ = listed
    resp = api.v3("GET", "/volumes/summary", project, version="3.12", status=200)
    assert resp.json == {"volume-summary": {"total_size": 10, "total_count": 4}}
    resp = api.v3("GET", "/volumes/summary", project, version="3.36", status=200)
    fx.check_schema(fx.tempest_schema("volumes", "show_volume_summary"), resp)
    summary = resp.json["volume-summary"]
    assert summary["metadata"] == {"Type": ["home", "work"]}


def test_admin_sees_every_project_with_all_tenants(
        api: fx.Api, listed: tuple[str, list[dict]]) -> None:
    project, made = listed
    assert api.admin("GET", "/volumes", status=200).json["volumes"] == []
    every = api.admin("GET", "/volumes/detail?all_tenants=1", status=200).json["volumes"]
    assert {v["id"] for v in made} <= {v["id"] for v in every}
    mine = api.admin("GET", "/volumes?all_tenants=1&project_id=%s" % project, status=200)
    assert sorted(_ids(mine)) == sorted(v["id"] for v in made)
    hosted = api.admin("GET", "/volumes?all_tenants=1&host=%s%%23pool" % fx.BACKEND,
                       status=200)
    assert {v["id"] for v in made[:3]} <= set(_ids(hosted))
    # A user's all_tenants is ignored.
    other = fx.project()
    assert api.v3("GET", "/volumes?all_tenants=1", other, status=200).json["volumes"] == []
