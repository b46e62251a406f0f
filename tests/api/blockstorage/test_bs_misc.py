"""Availability zones, services and extensions of the block storage API."""
from __future__ import annotations

from typing import Iterator

import pytest
import webtest

from blockstorage import rpcapi
from tests.fixtures import blockstorage as fx


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[fx.BlockStorageService]:
    service = fx.BlockStorageService(fx.make_conf(str(tmp_path_factory.mktemp("bs"))))
    service.add_service(host="node1@file", zone="nova")
    service.add_service(host="node2@lvm", zone="zone-b", alive=False)
    service.add_service(host="node3@file", zone="zone-c", disabled=True)
    service.add_service(host="node1", binary=rpcapi.SCHEDULER_BINARY)
    yield service
    service.stop()


@pytest.fixture(scope="module")
def api(svc: fx.BlockStorageService) -> fx.Api:
    return fx.Api(webtest.TestApp(svc.pipeline))


def test_availability_zones(api: fx.Api) -> None:
    resp = api.v3("GET", "/os-availability-zone", fx.project(), status=200)
    assert resp.json == {"availabilityZoneInfo": [
        {"zoneName": "nova", "zoneState": {"available": True}},
        {"zoneName": "zone-b", "zoneState": {"available": False}}]}


def test_services_list_and_filters(api: fx.Api) -> None:
    api.v3("GET", "/os-services", fx.project(), status=403)
    resp = api.admin("GET", "/os-services", status=200)
    fx.check_schema(fx.tempest_schema("services", "list_services"), resp)
    by_host = {s["host"]: s for s in resp.json["services"]}
    assert by_host["node1@file"]["binary"] == "cinder-volume"
    assert by_host["node1@file"]["state"] == "up"
    assert by_host["node2@lvm"]["state"] == "down"
    assert by_host["node3@file"]["status"] == "disabled"
    assert by_host["node1"]["binary"] == "cinder-scheduler"
    assert "cluster" not in by_host["node1"]
    found = api.admin("GET", "/os-services?host=node1&binary=cinder-volume",
                      status=200).json["services"]
    assert [s["host"] for s in found] == ["node1@file"]
    resp = api.admin("GET", "/os-services", version="3.49", status=200)
    fx.check_schema(fx.tempest_schema("v3_7.services", "list_services"), resp)
    volume = [s for s in resp.json["services"] if s["host"] == "node1@file"][0]
    assert volume["backend_state"] == "up" and volume["cluster"] is None


def test_services_enable_disable(api: fx.Api) -> None:
    body = {"host": "node1@file", "binary": "cinder-volume"}
    resp = api.admin("PUT", "/os-services/disable", json_body=body, status=200)
    fx.check_schema(fx.tempest_schema("services", "disable_service"), resp)
    assert resp.json["disabled"] is True and resp.json["status"] == "disabled"
    resp = api.admin("PUT", "/os-services/disable-log-reason",
                     json_body=dict(body, disabled_reason="maintenance"), status=200)
    fx.check_schema(fx.tempest_schema("services", "disable_log_reason"), resp)
    assert resp.json["disabled_reason"] == "maintenance"
    listed = api.admin("GET", "/os-services?host=node1@file", status=200).json["services"]
    assert listed[0]["disabled_reason"] == "maintenance"
    resp = api.admin("PUT", "/os-services/enable", json_body=body, status=200)
    fx.check_schema(fx.tempest_schema("services", "enable_service"), resp)
    assert resp.json["disabled_reason"] is None and resp.json["status"] == "enabled"
    api.admin("PUT", "/os-services/enable", json_body={"host": "nope", "binary":
                                                       "cinder-volume"}, status=404)
    api.admin("PUT", "/os-services/freeze", json_body=body, status=400)
    api.v3("PUT", "/os-services/enable", fx.project(), json_body=body, status=403)


def test_extensions(api: fx.Api) -> None:
    resp = api.v3("GET", "/extensions", fx.project(), status=200)
    fx.check_schema(fx.tempest_schema("extensions", "list_extensions"), resp)
    aliases = {e["alias"] for e in resp.json["extensions"]}
    assert {"os-volume-actions", "os-admin-actions", "os-quota-sets"} <= aliases


def test_request_id_and_size_limit(api: fx.Api) -> None:
    project = fx.project()
    resp = api.v3("POST", "/volumes", project, body=b"{" + b" " * 200000 + b"}",
                  headers={"Content-Type": "application/json"}, status=413)
    assert "overLimit" in resp.json


def test_hosts_list_and_usage(svc: fx.BlockStorageService, api: fx.Api) -> None:
    listed = api.admin("GET", "/os-hosts", status=200)
    fx.check_schema(fx.tempest_schema("hosts", "list_hosts"), listed)
    by_host = {(h["host_name"], h["service"]): h for h in listed.json["hosts"]}
    assert by_host[("node1@file", "cinder-volume")]["service-status"] == "available"
    assert by_host[("node2@lvm", "cinder-volume")]["service-status"] == "unavailable"
    assert by_host[("node3@file", "cinder-volume")]["service-state"] == "disabled"
    assert ("node1", "cinder-scheduler") in by_host
    api.v3("GET", "/os-hosts", fx.project(), status=403)

    project = fx.project()
    fx.available(svc, api, project, size=2)
    fx.available(svc, api, project, size=3)
    shown = api.admin("GET", "/os-hosts/node1", status=200)
    fx.check_schema(fx.tempest_schema("hosts", "show_host"), shown)
    rows = {r["resource"]["project"]: r["resource"] for r in shown.json["host"]}
    assert (rows[project]["volume_count"], rows[project]["total_volume_gb"]) == ("2", "5")
    assert int(rows["(total)"]["total_volume_gb"]) >= 5
    api.admin("GET", "/os-hosts/nowhere", status=404)


def test_extensions_list_hosts(api: fx.Api) -> None:
    names = [e["name"] for e in api.v3("GET", "/extensions", fx.project(),
                                       status=200).json["extensions"]]
    assert "Hosts" in names
