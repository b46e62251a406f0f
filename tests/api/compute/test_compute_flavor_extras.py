"""os-extra_specs and os-flavor-access."""
from __future__ import annotations

from compute_api_helpers import Api, message, project


def test_extra_specs_crud(api: Api) -> None:
    fid = api.create_flavor()["id"]
    base = "/v2.1/flavors/%s/os-extra_specs" % fid
    assert api.call("GET", base, project(), status=200).json == {"extra_specs": {}}
    body = {"extra_specs": {"hw:cpu_policy": "dedicated", "quota:disk_read_bytes_sec": 100,
                            "trait:CUSTOM_X": "required"}}
    assert api.admin("POST", base, json_body=body, status=200).json == body
    specs = api.call("GET", base, project(), roles="reader", status=200).json["extra_specs"]
    assert specs == {"hw:cpu_policy": "dedicated", "quota:disk_read_bytes_sec": "100",
                     "trait:CUSTOM_X": "required"}
    assert api.call("GET", base + "/hw:cpu_policy", project(), status=200).json == {
        "hw:cpu_policy": "dedicated"}
    resp = api.admin("PUT", base + "/hw:cpu_policy", json_body={"hw:cpu_policy": "shared"},
                     status=200)
    assert resp.json == {"hw:cpu_policy": "shared"}
    api.admin("POST", base, json_body={"extra_specs": {"hw:cpu_policy": "mixed"}}, status=200)
    assert api.admin("GET", base + "/hw:cpu_policy", status=200).json == {
        "hw:cpu_policy": "mixed"}
    api.admin("DELETE", base + "/hw:cpu_policy", status=200)
    resp = api.admin("GET", base + "/hw:cpu_policy", status=404)
    assert "has no extra specs with key hw:cpu_policy" in message(resp)
    api.admin("DELETE", base + "/hw:cpu_policy", status=404)
    # Specs go with their flavor.
    api.admin("DELETE", "/v2.1/flavors/" + fid, status=202)
    api.admin("GET", base, status=404)


def test_extra_specs_bad_input(api: Api) -> None:
    fid = api.create_flavor()["id"]
    base = "/v2.1/flavors/%s/os-extra_specs" % fid
    for body in ({}, {"extra_specs": "x"}, {"extra_specs": {"bad/key": "v"}},
                 {"extra_specs": {"k": "v" * 256}}, {"extra_specs": {"k": None}},
                 {"extra_specs": {"k": {"nested": 1}}}, {"specs": {}}):
        api.admin("POST", base, json_body=body, status=400)
    api.admin("PUT", base + "/k", json_body={"other": "v"}, status=400)
    api.admin("PUT", base + "/k", json_body={"k": "v", "j": "w"}, status=400)
    api.admin("PUT", base + "/k", json_body={}, status=400)
    api.admin("PUT", base + "/k", body=b"{nope", headers={"Content-Type": "application/json"},
              status=400)
    api.admin("POST", "/v2.1/flavors/nope/os-extra_specs",
              json_body={"extra_specs": {"k": "v"}}, status=404)
    api.admin("PUT", "/v2.1/flavors/nope/os-extra_specs/k", json_body={"k": "v"},
              status=404)


def test_extra_specs_writes_are_admin_only(api: Api) -> None:
    fid = api.create_flavor()["id"]
    base = "/v2.1/flavors/%s/os-extra_specs" % fid
    p = project()
    api.call("POST", base, p, json_body={"extra_specs": {"k": "v"}}, status=403)
    api.call("PUT", base + "/k", p, json_body={"k": "v"}, status=403)
    api.call("DELETE", base + "/k", p, status=403)
    api.call("GET", base, p, roles="nothing", status=403)


def test_flavor_access(api: Api) -> None:
    fid = api.create_flavor(**{"os-flavor-access:is_public": False})["id"]
    base = "/v2.1/flavors/%s" % fid
    assert api.admin("GET", base + "/os-flavor-access", status=200).json == {
        "flavor_access": []}
    one, two = sorted([project(), project()])
    resp = api.admin("POST", base + "/action", json_body={"addTenantAccess": {"tenant": one}},
                     status=200)
    assert resp.json == {"flavor_access": [{"flavor_id": fid, "tenant_id": one}]}
    api.admin("POST", base + "/action", json_body={"addTenantAccess": {"tenant": two}},
              status=200)
    resp = api.admin("POST", base + "/action", json_body={"addTenantAccess": {"tenant": one}},
                     status=409)
    assert "already exists" in message(resp)
    listed = api.admin("GET", base + "/os-flavor-access", status=200).json["flavor_access"]
    assert sorted(a["tenant_id"] for a in listed) == [one, two]
    resp = api.admin("POST", base + "/action",
                     json_body={"removeTenantAccess": {"tenant": one}}, status=200)
    assert resp.json == {"flavor_access": [{"flavor_id": fid, "tenant_id": two}]}
    api.call("GET", base, one, status=404)
    api.call("GET", base, two, status=200)
    resp = api.admin("POST", base + "/action",
                     json_body={"removeTenantAccess": {"tenant": one}}, status=404)
    assert "Flavor access not found" in message(resp)


def test_flavor_access_on_public_flavors(api: Api) -> None:
    fid = api.create_flavor()["id"]
    base = "/v2.1/flavors/%s" % fid
    resp = api.admin("GET", base + "/os-flavor-access", status=404)
    assert "public flavors" in message(resp)
    resp = api.admin("POST", base + "/action",
                     json_body={"addTenantAccess": {"tenant": project()}}, status=409)
    assert "public flavor" in message(resp)


def test_flavor_access_bad_input_and_policy(api: Api) -> None:
    fid = api.create_flavor(**{"os-flavor-access:is_public": False})["id"]
    base = "/v2.1/flavors/%s" % fid
    for body in ({}, {"addTenantAccess": {}}, {"addTenantAccess": {"tenant": ""}},
                 {"addTenantAccess": {"tenant": "a/b"}}, {"addTenantAccess": "x"},
                 {"addTenantAccess": {"tenant": "a"}, "removeTenantAccess": {"tenant": "a"}},
                 {"reboot": {}}, ["addTenantAccess"]):
        api.admin("POST", base + "/action", json_body=body, status=400)
    api.admin("POST", base + "/action", body=b"nope",
              headers={"Content-Type": "application/json"}, status=400)
    api.admin("POST", "/v2.1/flavors/nope/action",
              json_body={"addTenantAccess": {"tenant": "a"}}, status=404)
    api.admin("GET", "/v2.1/flavors/nope/os-flavor-access", status=404)
    p = project()
    api.call("GET", base + "/os-flavor-access", p, status=403)
    api.call("POST", base + "/action", p, json_body={"addTenantAccess": {"tenant": p}},
             status=403)
    api.call("POST", base + "/action", p, json_body={"removeTenantAccess": {"tenant": p}},
             status=403)
