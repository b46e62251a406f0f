"""/v3/regions, /v3/services and /v3/endpoints, and how they show in the catalog."""
from __future__ import annotations

from typing import Any

import pytest
from identity_api_helpers import Api, Persona, error_of, unique


def _ids(items: list[dict[str, Any]]) -> set[str]:
    return {i["id"] for i in items}


def _service(api: Api, **extra: Any) -> dict[str, Any]:
    body = {"type": unique("type"), "name": unique("svc"), **extra}
    return dict(api.post("/v3/services", {"service": body}).json["service"])


def _endpoint(api: Api, service_id: str, **extra: Any) -> dict[str, Any]:
    body = {"service_id": service_id, "interface": "public", "url": "http://svc.example/v1",
            **extra}
    return dict(api.post("/v3/endpoints", {"endpoint": body}).json["endpoint"])


# -- regions ----------------------------------------------------------------------------------

def test_region_post_and_show(api: Api) -> None:
    created = api.post("/v3/regions", {"region": {"description": "generated id"}}).json
    region = created["region"]
    assert region["id"] and region["description"] == "generated id"
    assert region["parent_region_id"] is None
    assert region["links"]["self"].endswith("/v3/regions/" + region["id"])
    assert api.get("/v3/regions/" + region["id"]).json["region"] == region
    named = api.post("/v3/regions", {"region": {"id": unique("Region")}}).json["region"]
    assert named["id"].startswith("Region-")
    assert {region["id"], named["id"], "RegionOne"} <= _ids(
        api.get("/v3/regions").json["regions"])


def test_region_put_with_id(api: Api) -> None:
    region_id = unique("PutRegion")
    resp = api.put("/v3/regions/" + region_id, {"region": {"description": "put"}}, status=201)
    assert resp.json["region"]["id"] == region_id
    assert resp.json["region"]["description"] == "put"
    error_of(api.put("/v3/regions/" + region_id, {"region": {}}, status="*"), 409)
    error_of(api.post("/v3/regions", {"region": {"id": region_id}}, status="*"), 409)


def test_region_hierarchy(api: Api) -> None:
    parent = api.post("/v3/regions", {"region": {"id": unique("Parent")}}).json["region"]
    child = api.post("/v3/regions", {"region": {"id": unique("Child"),
                                                "parent_region_id": parent["id"]}}
                     ).json["region"]
    assert child["parent_region_id"] == parent["id"]
    listed = api.get("/v3/regions?parent_region_id=" + parent["id"]).json["regions"]
    assert [r["id"] for r in listed] == [child["id"]]
    error_of(api.post("/v3/regions", {"region": {"parent_region_id": "no-such-region"}},
                      status="*"), 404)
    error_of(api.patch("/v3/regions/" + parent["id"],
                       {"region": {"parent_region_id": parent["id"]}}, status="*"), 400)


def test_region_update_and_delete(api: Api) -> None:
    region = api.post("/v3/regions", {"region": {"id": unique("Upd")}}).json["region"]
    updated = api.patch("/v3/regions/" + region["id"],
                        {"region": {"description": "changed"}}).json["region"]
    assert updated["description"] == "changed"
    api.delete("/v3/regions/" + region["id"])
    error_of(api.get("/v3/regions/" + region["id"], status="*"), 404)
    error_of(api.delete("/v3/regions/" + region["id"], status="*"), 404)


def test_region_with_endpoints_cannot_be_deleted(api: Api) -> None:
    region = api.post("/v3/regions", {"region": {"id": unique("Busy")}}).json["region"]
    endpoint = _endpoint(api, _service(api)["id"], region_id=region["id"])
    error_of(api.delete("/v3/regions/" + region["id"], status="*"), 403)
    assert api.get("/v3/endpoints/" + endpoint["id"]).json["endpoint"]["region_id"] == \
        region["id"]


def test_region_with_empty_children_is_deleted_with_them(api: Api) -> None:
    parent = api.post("/v3/regions", {"region": {"id": unique("Top")}}).json["region"]
    child = api.post("/v3/regions", {"region": {"id": unique("Leaf"),
                                                "parent_region_id": parent["id"]}}
                     ).json["region"]
    api.delete("/v3/regions/" + parent["id"], status=204)
    error_of(api.get("/v3/regions/" + child["id"], status="*"), 404)


def test_region_cycle_is_refused(api: Api) -> None:
    top = api.post("/v3/regions", {"region": {"id": unique("A")}}).json["region"]
    below = api.post("/v3/regions", {"region": {"id": unique("B"),
                                                "parent_region_id": top["id"]}}).json["region"]
    error_of(api.patch("/v3/regions/" + top["id"],
                       {"region": {"parent_region_id": below["id"]}}, status="*"), 400)


# -- services ---------------------------------------------------------------------------------

def test_service_crud(api: Api) -> None:
    service = _service(api, description="a service")
    assert service["enabled"] is True
    assert service["description"] == "a service"
    assert service["links"]["self"].endswith("/v3/services/" + service["id"])
    assert api.get("/v3/services/" + service["id"]).json["service"] == service
    updated = api.patch("/v3/services/" + service["id"],
                        {"service": {"enabled": False, "name": "renamed"}}).json["service"]
    assert updated["enabled"] is False and updated["name"] == "renamed"
    api.delete("/v3/services/" + service["id"])
    error_of(api.get("/v3/services/" + service["id"], status="*"), 404)


def test_service_filter_by_type(api: Api) -> None:
    kind = unique("kind")
    first, second = _service(api, type=kind), _service(api, type=kind)
    _service(api)
    found = api.get("/v3/services?type=" + kind).json["services"]
    assert _ids(found) == {first["id"], second["id"]}
    identity = api.get("/v3/services?type=identity").json["services"]
    assert [s["name"] for s in identity] == ["keystone"]
    by_name = api.get("/v3/services?name=" + first["name"]).json["services"]
    assert [s["id"] for s in by_name] == [first["id"]]


def test_deleting_a_service_deletes_its_endpoints(api: Api) -> None:
    service = _service(api)
    endpoint = _endpoint(api, service["id"])
    api.delete("/v3/services/" + service["id"])
    error_of(api.get("/v3/endpoints/" + endpoint["id"], status="*"), 404)


# -- endpoints --------------------------------------------------------------------------------

def test_endpoint_crud(api: Api) -> None:
    service = _service(api)
    endpoint = _endpoint(api, service["id"], region_id="RegionOne")
    assert endpoint["interface"] == "public"
    assert endpoint["url"] == "http://svc.example/v1"
    assert endpoint["service_id"] == service["id"]
    assert endpoint["region_id"] == "RegionOne" and endpoint["region"] == "RegionOne"
    assert endpoint["enabled"] is True
    assert endpoint["links"]["self"].endswith("/v3/endpoints/" + endpoint["id"])
    assert api.get("/v3/endpoints/" + endpoint["id"]).json["endpoint"] == endpoint
    updated = api.patch("/v3/endpoints/" + endpoint["id"],
                        {"endpoint": {"url": "http://moved.example/v1",
                                      "interface": "internal"}}).json["endpoint"]
    assert updated["url"] == "http://moved.example/v1"
    assert updated["interface"] == "internal"
    api.delete("/v3/endpoints/" + endpoint["id"])
    error_of(api.get("/v3/endpoints/" + endpoint["id"], status="*"), 404)


@pytest.mark.parametrize("interface", ["public", "internal", "admin"])
def test_endpoint_interfaces(api: Api, interface: str) -> None:
    endpoint = _endpoint(api, _service(api)["id"], interface=interface)
    assert endpoint["interface"] == interface


@pytest.mark.parametrize("interface", ["private", "PUBLIC", "", None])
def test_endpoint_interface_enum(api: Api, interface: str | None) -> None:
    service = _service(api)
    body = {"endpoint": {"service_id": service["id"], "interface": interface,
                         "url": "http://x.example"}}
    error_of(api.post("/v3/endpoints", body, status="*"), 400)


def test_endpoint_filters(api: Api) -> None:
    service, other = _service(api), _service(api)
    public = _endpoint(api, service["id"])
    internal = _endpoint(api, service["id"], interface="internal")
    _endpoint(api, other["id"])
    by_service = api.get("/v3/endpoints?service_id=" + service["id"]).json["endpoints"]
    assert _ids(by_service) == {public["id"], internal["id"]}
    both = api.get("/v3/endpoints?service_id=%s&interface=internal" % service["id"]).json
    assert _ids(both["endpoints"]) == {internal["id"]}
    admin_ones = api.get("/v3/endpoints?interface=admin").json["endpoints"]
    assert admin_ones and all(e["interface"] == "admin" for e in admin_ones)


def test_endpoint_with_unknown_legacy_region_creates_it(api: Api) -> None:
    legacy_region = unique("LegacyRegion")
    legacy = _endpoint(api, _service(api)["id"], region=legacy_region)
    assert legacy["region_id"] == legacy_region and legacy["region"] == legacy_region
    assert api.get("/v3/regions/" + legacy_region).json["region"]["id"] == legacy_region


def test_endpoint_with_unknown_region_id_is_refused(api: Api) -> None:
    region_id = unique("NoSuchRegion")
    body = {"endpoint": {"service_id": _service(api)["id"], "interface": "public",
                         "url": "http://x.example", "region_id": region_id}}
    error_of(api.post("/v3/endpoints", body, status="*"), 400)
    error_of(api.get("/v3/regions/" + region_id, status="*"), 404)


def test_endpoint_with_unknown_service_is_refused(api: Api) -> None:
    body = {"endpoint": {"service_id": "f" * 32, "interface": "public",
                         "url": "http://x.example"}}
    error_of(api.post("/v3/endpoints", body, status="*"), 400)


def test_catalog_reflects_services_and_endpoints(api: Api, member: Persona) -> None:
    service = _service(api, type=unique("compute"))
    endpoint = _endpoint(api, service["id"], url="http://c.example/v2.1/$(project_id)s",
                         region_id="RegionOne")
    disabled = _service(api, enabled=False)
    _endpoint(api, disabled["id"])
    catalog = api.get("/v3/auth/catalog", token=member.token).json["catalog"]
    entry = [s for s in catalog if s["id"] == service["id"]]
    assert len(entry) == 1
    assert entry[0]["type"] == service["type"] and entry[0]["name"] == service["name"]
    assert entry[0]["endpoints"] == [{
        "id": endpoint["id"], "interface": "public", "region": "RegionOne",
        "region_id": "RegionOne", "url": "http://c.example/v2.1/" + str(member.project_id)}]
    assert disabled["id"] not in {s["id"] for s in catalog}
