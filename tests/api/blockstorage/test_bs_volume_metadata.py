"""``/volumes/{id}/metadata``: list, merge, replace, one item."""
from __future__ import annotations

from typing import Iterator

import pytest
import webtest

from tests.fixtures import blockstorage as fx


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[fx.BlockStorageService]:
    service = fx.BlockStorageService(fx.make_conf(str(tmp_path_factory.mktemp("bs"))))
    yield service
    service.stop()


@pytest.fixture(scope="module")
def api(svc: fx.BlockStorageService) -> fx.Api:
    return fx.Api(webtest.TestApp(svc.pipeline))


def test_metadata_crud(svc: fx.BlockStorageService, api: fx.Api) -> None:
    project = fx.project()
    volume = fx.available(svc, api, project, metadata={"a": "1"})
    path = "/volumes/%s/metadata" % volume["id"]
    resp = api.v3("GET", path, project, status=200)
    fx.check_schema(fx.tempest_schema("volumes", "show_volume_metadata"), resp)
    assert resp.json == {"metadata": {"a": "1"}}
    resp = api.v3("POST", path, project, json_body={"metadata": {"b": "2"}}, status=200)
    fx.check_schema(fx.tempest_schema("volumes", "create_volume_metadata"), resp)
    assert resp.json == {"metadata": {"a": "1", "b": "2"}}
    resp = api.v3("PUT", path, project, json_body={"metadata": {"c": "3"}}, status=200)
    assert resp.json == {"metadata": {"c": "3"}}
    resp = api.v3("GET", path + "/c", project, status=200)
    fx.check_schema(fx.tempest_schema("volumes", "show_volume_metadata_item"), resp)
    assert resp.json == {"meta": {"c": "3"}}
    resp = api.v3("PUT", path + "/c", project, json_body={"meta": {"c": "4"}}, status=200)
    assert resp.json == {"meta": {"c": "4"}}
    api.v3("PUT", path + "/c", project, json_body={"meta": {"d": "4"}}, status=400)
    api.v3("PUT", path + "/c", project, json_body={"meta": {"c": "4", "d": "5"}}, status=400)
    api.v3("DELETE", path + "/c", project, status=200)
    api.v3("GET", path + "/c", project, status=404)
    api.v3("DELETE", path + "/c", project, status=404)
    assert api.v3("GET", path, project, status=200).json == {"metadata": {}}


def test_metadata_validation_and_scope(svc: fx.BlockStorageService, api: fx.Api) -> None:
    project = fx.project()
    volume = fx.available(svc, api, project)
    path = "/volumes/%s/metadata" % volume["id"]
    api.v3("POST", path, project, json_body={"metadata": {"k": 1}}, status=400)
    api.v3("POST", path, project, json_body={"metadata": {"k" * 256: "v"}}, status=400)
    api.v3("POST", path, project, json_body={"metadata": {"k": "v" * 256}}, status=400)
    api.v3("POST", path, project, json_body={"meta": {}}, status=400)
    api.v3("GET", path, fx.project(), status=404)
    api.v3("POST", path, project, roles="reader", json_body={"metadata": {"k": "v"}},
           status=403)
