"""Personas: project reader, project member, another project, admin, service."""
from __future__ import annotations

from network_api_helpers import Api, project

READER = "reader"
MEMBER = "member,reader"


def test_reader_reads_but_does_not_write(api: Api) -> None:
    p = project()
    net, sub = api.network_with_subnet(p, "10.90.0.0/24")
    port = api.create("ports", p, {"network_id": net["id"]})
    for collection, item in (("networks", net), ("subnets", sub), ("ports", port)):
        api.show(collection, p, item["id"], roles=READER)
        assert item["id"] in api.ids(collection, p, roles=READER)
        api.update(collection, p, item["id"], {"name": "x"}, roles=READER, status=403)
        api.delete(collection, p, item["id"], roles=READER, status=403)
    api.create("networks", p, {}, roles=READER, status=403)
    api.create("routers", p, {}, roles=READER, status=403)
    api.create("security-groups", p, {"name": "x"}, roles=READER, status=403)
    assert api.list("security-groups", p, roles=READER)["security_groups"]
    api.call("GET", "/v2.0/quotas/" + p, p, roles=READER, status=200)


def test_unknown_role_sees_nothing(api: Api) -> None:
    p = project()
    net = api.create("networks", p, {})
    api.show("networks", p, net["id"], roles="observer", status=404)
    api.create("networks", p, {}, roles="observer", status=403)


def test_other_project_and_admin(api: Api) -> None:
    p, other = project(), project()
    net, _sub = api.network_with_subnet(p, "10.91.0.0/24")
    port = api.create("ports", p, {"network_id": net["id"]})
    router = api.create("routers", p, {})
    for collection, item in (("networks", net), ("ports", port), ("routers", router)):
        api.show(collection, other, item["id"], roles=MEMBER, status=404)
        assert item["id"] not in api.ids(collection, other)
        shown = api.show(collection, api.ADMIN, item["id"], roles=api.ADMIN_ROLES)
        assert shown["project_id"] == p
        assert item["id"] in api.ids(collection, api.ADMIN, roles=api.ADMIN_ROLES)
    # The admin may act in another project's name.
    api.update("networks", api.ADMIN, net["id"], {"name": "by-admin"}, roles=api.ADMIN_ROLES)


def test_service_role_binds_ports(api: Api) -> None:
    p = project()
    net, _sub = api.network_with_subnet(p, "10.92.0.0/24")
    port = api.create("ports", p, {"network_id": net["id"]})
    bound = api.update("ports", "service-project", port["id"], {"binding:host_id": "h1"},
                       roles="service,admin")
    assert bound["binding:host_id"] == "h1"
    api.update("ports", p, port["id"], {"binding:host_id": "h2"}, status=403)


def test_member_may_port_on_shared_network(api: Api) -> None:
    shared = api.create("networks", api.ADMIN, {"shared": True}, roles=api.ADMIN_ROLES)
    api.create("subnets", api.ADMIN, {"network_id": shared["id"], "ip_version": 4,
                                      "cidr": "10.93.0.0/24"}, roles=api.ADMIN_ROLES)
    p = project()
    port = api.create("ports", p, {"network_id": shared["id"]})
    assert port["project_id"] == p
    assert api.ids("subnets", p, "network_id=" + shared["id"])
    api.create("ports", p, {"network_id": shared["id"],
                            "fixed_ips": [{"ip_address": "10.93.0.50"}]}, status=403)
    api.create("subnets", p, {"network_id": shared["id"], "ip_version": 4,
                              "cidr": "10.94.0.0/24"}, status=403)
