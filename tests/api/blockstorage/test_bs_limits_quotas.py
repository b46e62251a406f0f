"""``limits`` and ``os-quota-sets``: limits, usage, defaults, admin changes."""
from __future__ import annotations

from typing import Iterator

import pytest
import webtest

from tests.fixtures import blockstorage as fx


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[fx.BlockStorageService]:
    conf = fx.make_conf(str(tmp_path_factory.mktemp("bs")), quota={"volumes": 7})
    service = fx.BlockStorageService(conf)
    yield service
    service.stop()


@pytest.fixture(scope="module")
def api(svc: fx.BlockStorageService) -> fx.Api:
    return fx.Api(webtest.TestApp(svc.pipeline))


def test_limits_show_limits_and_usage(svc: fx.BlockStorageService, api: fx.Api) -> None:
    project = fx.project()
    fx.available(svc, api, project, size=2)
    api.create_volume(project, size=3)
    resp = api.v3("GET", "/limits", project, status=200)
    fx.check_schema(fx.tempest_schema("limits", "show_limits"), resp)
    absolute = resp.json["limits"]["absolute"]
    assert resp.json["limits"]["rate"] == []
    assert absolute["maxTotalVolumes"] == 7 and absolute["totalVolumesUsed"] == 2
    assert absolute["totalGigabytesUsed"] == 5


def test_admin_reads_another_projects_limits_from_339(svc: fx.BlockStorageService,
                                                      api: fx.Api) -> None:
    project = fx.project()
    api.create_volume(project, size=2)
    path = "/limits?project_id=%s" % project
    old = api.admin("GET", path, version="3.38", status=200).json["limits"]["absolute"]
    new = api.admin("GET", path, version="3.39", status=200).json["limits"]["absolute"]
    assert old["totalGigabytesUsed"] == 0 and new["totalGigabytesUsed"] == 2
    mine = api.v3("GET", "/limits?project_id=%s" % fx.project(), project, version="3.39",
                  status=200)
    assert mine.json["limits"]["absolute"]["totalGigabytesUsed"] == 2


def test_quota_show_and_defaults(api: fx.Api) -> None:
    project = fx.project()
    resp = api.v3("GET", "/os-quota-sets/%s" % project, project, status=200)
    fx.check_schema(fx.tempest_schema("quotas", "show_quota_set"), resp)
    quota = resp.json["quota_set"]
    assert quota["id"] == project and quota["volumes"] == 7
    assert quota["volumes___DEFAULT__"] == -1
    resp = api.v3("GET", "/os-quota-sets/%s/defaults" % project, project, status=200)
    fx.check_schema(fx.tempest_schema("quotas", "show_quota_set"), resp)
    api.v3("GET", "/os-quota-sets/%s" % fx.project(), project, status=403)


def test_quota_usage(svc: fx.BlockStorageService, api: fx.Api) -> None:
    project = fx.project()
    api.create_volume(project, size=4)
    resp = api.v3("GET", "/os-quota-sets/%s?usage=True" % project, project, status=200)
    fx.check_schema(fx.tempest_schema("quotas", "show_quota_set_usage"), resp)
    assert resp.json["quota_set"]["gigabytes"] == {"limit": 1000, "in_use": 4,
                                                   "reserved": 0}


def test_quota_update_and_delete_are_admin_only(api: fx.Api) -> None:
    project = fx.project()
    path = "/os-quota-sets/%s" % project
    api.v3("PUT", path, project, json_body={"quota_set": {"volumes": 3}}, status=403)
    resp = api.admin("PUT", path, json_body={"quota_set": {"volumes": 3, "snapshots": 4}},
                     status=200)
    fx.check_schema(fx.tempest_schema("quotas", "update_quota_set"), resp)
    assert resp.json["quota_set"]["volumes"] == 3
    assert api.v3("GET", path, project, status=200).json["quota_set"]["snapshots"] == 4
    api.admin("PUT", path, json_body={"quota_set": {"bogus": 1}}, status=400)
    api.admin("PUT", path, json_body={"quota_set": {"volumes": -2}}, status=400)
    api.admin("PUT", path, json_body={"quota_set": {"volumes": "x"}}, status=400)
    api.v3("DELETE", path, project, status=403)
    api.admin("DELETE", path, status=200)
    assert api.v3("GET", path, project, status=200).json["quota_set"]["volumes"] == 7


def test_quota_below_usage_with_validation(api: fx.Api) -> None:
    project = fx.project()
    api.create_volume(project)
    api.create_volume(project)
    path = "/os-quota-sets/%s" % project
    api.admin("PUT", path, json_body={"quota_set": {"volumes": 1,
                                                    "skip_validation": False}},
              status=400)
    api.admin("PUT", path, json_body={"quota_set": {"volumes": 1}}, status=200)
