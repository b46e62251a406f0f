"""Networks: CRUD, provider attributes, sharing, filters, fields, sorting,
pagination, bulk create and If-Match."""
from __future__ import annotations

from typing import Any

from network_api_helpers import TIMESTAMP, UUID, Api, error_type, project


def test_create_show_update_delete(api: Api) -> None:
    p = project()
    net = api.create("networks", p, {"name": "n1", "description": "d"})
    assert UUID.match(net["id"])
    assert net["project_id"] == net["tenant_id"] == p
    assert net["status"] == "ACTIVE" and net["admin_state_up"] is True
    assert net["shared"] is False and net["router:external"] is False
    assert net["mtu"] == 1450 and net["port_security_enabled"] is True
    assert net["subnets"] == [] and net["availability_zones"] == []
    assert net["ipv4_address_scope"] is None and net["revision_number"] == 0
    assert TIMESTAMP.match(net["created_at"]) and TIMESTAMP.match(net["updated_at"])
    assert "provider:network_type" not in net
    shown = api.show("networks", p, net["id"])
    assert shown == net
    updated = api.update("networks", p, net["id"], {"name": "n2", "admin_state_up": "false"})
    assert updated["name"] == "n2" and updated["admin_state_up"] is False
    assert updated["revision_number"] == 1
    api.delete("networks", p, net["id"])
    resp = api.show("networks", p, net["id"], status=404)
    assert resp["NeutronError"]["type"] == "NetworkNotFound"


def test_admin_sees_and_sets_provider_attributes(api: Api) -> None:
    net = api.create("networks", api.ADMIN, {"name": "prov"}, roles=api.ADMIN_ROLES)
    assert net["provider:network_type"] == "vxlan"
    assert net["provider:physical_network"] is None
    assert 1 <= net["provider:segmentation_id"] <= 1000
    other = api.create("networks", api.ADMIN, {"provider:network_type": "vxlan",
                                               "provider:segmentation_id": 4242},
                       roles=api.ADMIN_ROLES)
    assert other["provider:segmentation_id"] == 4242
    resp = api.call("POST", "/v2.0/networks", api.ADMIN, roles=api.ADMIN_ROLES,
                    json_body={"network": {"provider:network_type": "vxlan",
                                           "provider:segmentation_id": 4242}}, status=409)
    assert error_type(resp) == "SegmentationIdInUse"
    api.call("POST", "/v2.0/networks", api.ADMIN, roles=api.ADMIN_ROLES,
             json_body={"network": {"provider:network_type": "gre"}}, status=400)
    api.call("POST", "/v2.0/networks", api.ADMIN, roles=api.ADMIN_ROLES,
             json_body={"network": {"provider:network_type": "flat",
                                    "provider:physical_network": "nope"}}, status=400)


def test_segmentation_ids_are_unique(api: Api) -> None:
    ids = [api.create("networks", api.ADMIN, {}, roles=api.ADMIN_ROLES)[
        "provider:segmentation_id"] for _ in range(5)]
    assert len(set(ids)) == 5


def test_non_admin_cannot_set_admin_attributes(api: Api) -> None:
    p = project()
    for body in ({"shared": True}, {"router:external": True},
                 {"provider:network_type": "vxlan"}):
        api.call("POST", "/v2.0/networks", p, json_body={"network": body}, status=403)
    # Explicit defaults are allowed, as on Neutron.
    api.create("networks", p, {"shared": False})


def test_other_projects_network_is_404_unless_shared(api: Api) -> None:
    owner, other = project(), project()
    net = api.create("networks", owner, {"name": "private"})
    api.show("networks", other, net["id"], status=404)
    api.update("networks", other, net["id"], {"name": "x"}, status=404)
    api.delete("networks", other, net["id"], status=404)
    assert net["id"] not in api.ids("networks", other)
    shared = api.create("networks", api.ADMIN, {"shared": True}, roles=api.ADMIN_ROLES)
    assert api.show("networks", other, shared["id"])["shared"] is True
    assert shared["id"] in api.ids("networks", other)
    api.update("networks", other, shared["id"], {"name": "x"}, status=403)


def test_project_id_of_another_project_needs_admin(api: Api) -> None:
    api.call("POST", "/v2.0/networks", project(),
             json_body={"network": {"project_id": project()}}, status=403)
    target = project()
    net = api.create("networks", api.ADMIN, {"project_id": target}, roles=api.ADMIN_ROLES)
    assert net["project_id"] == target
    api.call("POST", "/v2.0/networks", project(),
             json_body={"network": {"project_id": "a", "tenant_id": "b"}}, status=400)


def test_filters_fields_sorting(api: Api) -> None:
    p = project()
    made = [api.create("networks", p, {"name": name, "admin_state_up": up})
            for name, up in (("b", True), ("a", False), ("c", True))]
    assert sorted(api.ids("networks", p, "name=a&name=c")) == sorted(
        [made[1]["id"], made[2]["id"]])
    assert api.ids("networks", p, "admin_state_up=false") == [made[1]["id"]]
    assert api.ids("networks", p, "admin_state_up=False") == [made[1]["id"]]
    assert api.ids("networks", p, "unknown_filter=1") != []
    body = api.list("networks", p, "fields=id&fields=name")
    assert all(set(n) == {"id", "name"} for n in body["networks"])
    shown = api.show("networks", p, made[0]["id"], query="fields=name")
    assert shown == {"name": "b"}
    query = "sort_key=name&sort_dir=desc&project_id=" + p
    names = [n["name"] for n in api.list("networks", p, query)["networks"]]
    assert names == ["c", "b", "a"]
    api.call("GET", "/v2.0/networks?sort_key=bogus", p, status=400)
    api.call("GET", "/v2.0/networks?sort_key=name&sort_dir=sideways", p, status=400)


def test_pagination_with_links(api: Api) -> None:
    p = project()
    for name in "abcde":
        api.create("networks", p, {"name": name})
    seen: list[str] = []
    query = "limit=2&sort_key=name&sort_dir=asc&tenant_id=" + p
    body = api.list("networks", p, query)
    while True:
        seen += [n["name"] for n in body["networks"]]
        nxt = [link for link in body.get("networks_links", []) if link["rel"] == "next"]
        if not nxt:
            break
        path = nxt[0]["href"].split("localhost", 1)[1]
        body = api.call("GET", path, p, status=200).json
    assert seen == list("abcde")
    prev = [link for link in body["networks_links"] if link["rel"] == "previous"]
    assert prev
    back = api.call("GET", prev[0]["href"].split("localhost", 1)[1], p, status=200).json
    assert [n["name"] for n in back["networks"]] == ["c", "d"]
    api.call("GET", "/v2.0/networks?limit=-1", p, status=400)
    api.call("GET", "/v2.0/networks?limit=x", p, status=400)
    api.call("GET", "/v2.0/networks?limit=1&marker=" + "0" * 36, p, status=400)


def test_bulk_create(api: Api) -> None:
    p = project()
    resp = api.call("POST", "/v2.0/networks", p,
                    json_body={"networks": [{"name": "x1"}, {"name": "x2"}]}, status=201)
    nets = resp.json["networks"]
    assert [n["name"] for n in nets] == ["x1", "x2"]
    # One bad item fails the whole request and creates nothing.
    api.call("POST", "/v2.0/networks", p,
             json_body={"networks": [{"name": "ok"}, {"bogus": 1}]}, status=400)
    assert sorted(api.ids("networks", p, "project_id=" + p)) == sorted(n["id"] for n in nets)
    api.call("POST", "/v2.0/networks", p, json_body={"networks": []}, status=400)


def test_if_match_revision(api: Api) -> None:
    p = project()
    net = api.create("networks", p, {"name": "rev"})
    api.update("networks", p, net["id"], {"name": "r1"},
               headers={"If-Match": "revision_number=0"})
    resp = api.call("PUT", "/v2.0/networks/" + net["id"], p,
                    json_body={"network": {"name": "r2"}},
                    headers={"If-Match": "revision_number=0"}, status=412)
    assert error_type(resp) == "PreconditionFailed"
    api.call("DELETE", "/v2.0/networks/" + net["id"], p,
             headers={"If-Match": "revision_number=7"}, status=412)
    api.call("DELETE", "/v2.0/networks/" + net["id"], p,
             headers={"If-Match": "revision_number=1"}, status=204)


def test_bad_bodies(api: Api) -> None:
    p = project()
    cases: list[Any] = [{"network": {"status": "DOWN"}}, {"network": {"mtu": 99999}},
                        {"network": {"admin_state_up": "maybe"}}, {"network": []},
                        {"nets": {}}, {"network": {"name": 5}}, [1, 2]]
    for body in cases:
        api.call("POST", "/v2.0/networks", p, json_body=body, status=400)
    api.call("POST", "/v2.0/networks", p, body=b"{not json",
             headers={"Content-Type": "application/json"}, status=400)
    net = api.create("networks", p, {})
    api.update("networks", p, net["id"], {"id": "x"}, status=400)
    api.update("networks", p, net["id"], {"provider:network_type": "flat"}, status=400)


def test_tags(api: Api) -> None:
    p = project()
    net = api.create("networks", p, {})
    path = "/v2.0/networks/%s/tags" % net["id"]
    api.call("PUT", path + "/red", p, status=201)
    api.call("PUT", path, p, json_body={"tags": ["blue", "green"]}, status=200)
    api.call("GET", path + "/blue", p, status=204)
    api.call("GET", path + "/red", p, status=404)
    assert api.show("networks", p, net["id"])["tags"] == ["blue", "green"]
    assert api.ids("networks", p, "tags=blue") == [net["id"]]
    assert api.ids("networks", p, "tags-any=blue,red") == [net["id"]]
    assert api.ids("networks", p, "not-tags=blue&project_id=" + p) == []
    api.call("DELETE", path + "/blue", p, status=204)
    api.call("DELETE", path, p, status=204)
    assert api.show("networks", p, net["id"])["tags"] == []
    api.call("PUT", path + "/x", project(), status=404)
