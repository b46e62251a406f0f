"""Microversions 2.27 to 2.46 outside the servers resource: the
``OpenStack-API-Version`` header (2.27), the proxy APIs that are gone (2.36,
2.39, 2.43, 2.44: never served here, 404 at every version; but the security
group proxies, served until 2.35 and 404 from 2.36), the snapshot
metadata quota dropped at 2.39, the pre-2.40 usage cut at ``max_limit``, the
network proxy actions' 404 at 2.44, the snapshots' ``image_id`` at 2.45 and
the request id header (2.46)."""
from __future__ import annotations

import datetime
import re
import uuid
from typing import Any

import compute_admin_helpers as helpers
import pytest
from compute_admin_helpers import MvApi, add_instance
from compute_api_helpers import Api, project

from tests.fixtures import compute as fx

SERVICE_CONF = {"quota": {"metadata_items": 2}, "compute_api": {"max_limit": 2}}
# The helpers' fixtures, used by name.
db, latest, mv = helpers.db, helpers.latest, helpers.mv


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch, service: Any, api: Any) -> fx.Servers:
    return fx.Servers(api, service, fx.install_fakes(monkeypatch))


def _act(fakes: fx.Servers, instance: dict[str, Any], version: str, body: Any,
         status: int) -> Any:
    return fakes.call("POST", "/servers/%s/action" % instance["uuid"],
                      instance["project_id"], version=version, json_body=body, status=status)


# -- 2.27 and 2.46: the headers ---------------------------------------------------------------


@pytest.mark.parametrize("version", ["2.27", "2.35", "2.46"])
def test_the_new_version_header_is_read_and_echoed(api: Api, version: str) -> None:
    resp = api.call("GET", "/v2.1/os-keypairs", project(), roles="member", status=200,
                    headers={"OpenStack-API-Version": "volume 3.0, compute %s" % version})
    assert resp.headers["OpenStack-API-Version"] == "compute " + version
    assert resp.headers["X-OpenStack-Nova-API-Version"] == version
    assert "OpenStack-API-Version" in resp.headers["Vary"]
    request_id = resp.headers["X-OpenStack-Request-ID"]
    assert re.match(r"^req-[0-9a-f-]{36}$", request_id)
    assert resp.headers["X-Compute-Request-ID"] == request_id


# -- 2.36, 2.39, 2.43, 2.44: the proxy APIs ---------------------------------------------------

GONE = ["/images", "/images/detail", "/images/x/metadata", "/os-networks",
        "/os-tenant-networks", "/os-fixed-ips/10.0.0.2", "/os-floating-ips",
        "/os-floating-ips-bulk", "/os-floating-ip-pools", "/os-floating-ip-dns",
        "/os-security-group-default-rules", "/os-volumes", "/os-snapshots",
        "/os-baremetal-nodes", "/os-fping", "/os-hosts", "/os-hosts/node-1"]
# Served before 2.36 (tests/api/compute/test_compute_security_groups_proxy.py).
GONE_FROM_236 = ["/os-security-groups", "/os-security-groups/%s" % uuid.uuid4(),
                 "/os-security-group-rules/x"]


@pytest.mark.parametrize("version", ["2.1", "2.35", "2.36", "2.43", "2.44"])
def test_the_proxy_apis_are_not_served(mv: MvApi, version: str) -> None:
    p = project()
    gone = GONE + (GONE_FROM_236 if tuple(map(int, version.split("."))) >= (2, 36) else [])
    for path in gone:
        mv.at(version, "GET", "/v2.1" + path, p, roles="member", status=404)
        mv.at(version, "GET", "/v2.1/%s%s" % (p, path), p, roles="member", status=404)


@pytest.mark.parametrize("action", ["addFixedIp", "removeFixedIp", "addFloatingIp",
                                    "removeFloatingIp"])
def test_the_network_proxy_actions_are_404_from_244(fakes: fx.Servers, action: str) -> None:
    instance = fakes.active(project())
    body = {action: {"address": "10.0.0.9"}}
    _act(fakes, instance, "2.43", body, 400)
    _act(fakes, instance, "2.44", body, 404)
    assert fakes.boundary.rpc == []
    fakes.call("GET", "/servers/%s/os-virtual-interfaces" % instance["uuid"],
               instance["project_id"], version="2.44", status=404)


# -- 2.39: no metadata quota on snapshots; 2.45: image_id ----------------------------------


@pytest.mark.parametrize("action,extra", [
    ("createImage", {}), ("createBackup", {"backup_type": "daily", "rotation": 1})])
def test_snapshot_metadata_quota_before_239_only(fakes: fx.Servers, action: str,
                                                 extra: dict[str, Any]) -> None:
    instance = fakes.active(project())
    body = {action: dict(extra, name="snap", metadata={"a": "1", "b": "2", "c": "3"})}
    _act(fakes, instance, "2.38", body, 403)
    assert fakes.boundary.created_images == []
    _act(fakes, instance, "2.39", body, 202)
    (image,) = fakes.boundary.created_images
    assert (image["a"], image["b"], image["c"]) == ("1", "2", "3")


@pytest.mark.parametrize("action,extra", [
    ("createImage", {}), ("createBackup", {"backup_type": "daily", "rotation": 1})])
def test_snapshots_answer_image_id_from_245(fakes: fx.Servers, action: str,
                                            extra: dict[str, Any]) -> None:
    instance = fakes.active(project())
    resp = _act(fakes, instance, "2.44", {action: dict(extra, name="one")}, 202)
    first = fakes.boundary.created_images[-1]
    assert resp.headers["Location"].endswith("/images/" + first["id"])
    assert resp.body == b""
    fakes.set(instance["uuid"], task_state=None)
    resp = _act(fakes, instance, "2.45", {action: dict(extra, name="two")}, 202)
    second = fakes.boundary.created_images[-1]
    assert resp.json == {"image_id": second["id"]} and second["id"] != first["id"]
    assert "Location" not in resp.headers


# -- 2.40: the usage before paging is cut at max_limit ----------------------------------------


def test_usage_before_240_is_cut_at_max_limit_without_links(mv: MvApi, db: Any) -> None:
    p = project()
    start = datetime.datetime(2020, 1, 1)
    for hour in range(3):
        add_instance(db, p, launched_at=start + datetime.timedelta(hours=hour))
    url = "/v2.1/os-simple-tenant-usage/%s?start=2020-01-01T00:00:00&end=2020-01-02T00:00:00" % p
    old = mv.at("2.39", "GET", url, status=200).json["tenant_usage"]
    assert len(old["server_usages"]) == 2  # max_limit, silently
    resp = mv.at("2.39", "GET", url + "&limit=1", status=200).json
    assert len(resp["tenant_usage"]["server_usages"]) == 2
    assert "tenant_usage_links" not in resp
    paged = mv.at("2.40", "GET", url, status=200).json
    assert len(paged["tenant_usage"]["server_usages"]) == 2
    assert paged["tenant_usage_links"][0]["rel"] == "next"
