"""CRUD and filters of /v3/domains and /v3/projects (hierarchy and tags)."""
from __future__ import annotations

from typing import Any

from identity_api_helpers import DEFAULT_DOMAIN, Api, error_of, unique


def _ids(items: list[dict[str, Any]]) -> set[str]:
    return {i["id"] for i in items}


# -- domains ---------------------------------------------------------------------------------

def test_domain_create_show_and_body(api: Api) -> None:
    resp = api.post("/v3/domains", {"domain": {"name": unique("dom"), "description": "d"}})
    domain = resp.json["domain"]
    assert domain["enabled"] is True
    assert domain["description"] == "d"
    assert domain["links"]["self"].endswith("/v3/domains/" + domain["id"])
    assert api.get("/v3/domains/" + domain["id"]).json["domain"] == domain


def test_domain_created_disabled(api: Api) -> None:
    domain = api.create_domain(enabled=False)
    assert domain["enabled"] is False
    assert api.get("/v3/domains/" + domain["id"]).json["domain"]["enabled"] is False


def test_domain_filters(api: Api) -> None:
    on = api.create_domain()
    off = api.create_domain(enabled=False)
    by_name = api.get("/v3/domains?name=" + on["name"]).json["domains"]
    assert [d["id"] for d in by_name] == [on["id"]]
    enabled = _ids(api.get("/v3/domains?enabled=true").json["domains"])
    disabled = _ids(api.get("/v3/domains?enabled=false").json["domains"])
    assert on["id"] in enabled and off["id"] not in enabled
    assert off["id"] in disabled and on["id"] not in disabled
    assert DEFAULT_DOMAIN in enabled
    listing = api.get("/v3/domains").json
    assert {on["id"], off["id"], DEFAULT_DOMAIN} <= _ids(listing["domains"])
    assert listing["links"]["self"].endswith("/v3/domains")


def test_domain_update(api: Api) -> None:
    domain = api.create_domain()
    new_name = unique("renamed")
    updated = api.patch("/v3/domains/" + domain["id"],
                        {"domain": {"name": new_name, "description": "new"}}).json["domain"]
    assert updated["name"] == new_name and updated["description"] == "new"
    assert api.get("/v3/domains/" + domain["id"]).json["domain"]["name"] == new_name


def test_domain_delete_requires_disabled(api: Api) -> None:
    domain = api.create_domain()
    project = api.create_project(domain_id=domain["id"])
    error_of(api.delete("/v3/domains/" + domain["id"], status="*"), 403)
    api.get("/v3/domains/" + domain["id"])
    api.patch("/v3/domains/" + domain["id"], {"domain": {"enabled": False}})
    api.delete("/v3/domains/" + domain["id"])
    error_of(api.get("/v3/domains/" + domain["id"], status="*"), 404)
    error_of(api.get("/v3/projects/" + project["id"], status="*"), 404)


def test_domain_create_with_explicit_id(api: Api) -> None:
    domain_id = "e" * 32
    domain = api.create_domain(explicit_domain_id=domain_id)
    assert domain["id"] == domain_id
    assert "explicit_domain_id" not in domain


# -- projects --------------------------------------------------------------------------------

def test_project_create_body(api: Api) -> None:
    resp = api.post("/v3/projects", {"project": {"name": unique("p"), "description": "dsc"}})
    assert resp.status_int == 201
    project = resp.json["project"]
    assert project["domain_id"] == DEFAULT_DOMAIN
    assert project["parent_id"] == DEFAULT_DOMAIN  # parent_id defaults to the domain
    assert project["is_domain"] is False
    assert project["enabled"] is True
    assert project["description"] == "dsc"
    assert project["tags"] == []
    assert project["links"]["self"].endswith("/v3/projects/" + project["id"])
    assert api.get("/v3/projects/" + project["id"]).json["project"] == project


def test_project_in_another_domain(api: Api) -> None:
    domain = api.create_domain()
    project = api.create_project(domain_id=domain["id"])
    assert project["domain_id"] == domain["id"]
    assert project["parent_id"] == domain["id"]


def test_project_in_unknown_domain(api: Api) -> None:
    resp = api.post("/v3/projects", {"project": {"name": unique("p"), "domain_id": "nope"}},
                    status="*")
    assert resp.status_int in (400, 404), resp.text
    error_of(resp, resp.status_int)


def test_project_hierarchy(api: Api) -> None:
    parent = api.create_project()
    child = api.create_project(parent_id=parent["id"])
    grandchild = api.post("/v3/projects", {"project": {"name": unique("gc"),
                                                       "parent_id": child["id"]}}
                          ).json["project"]
    assert child["parent_id"] == parent["id"]
    assert child["domain_id"] == DEFAULT_DOMAIN
    assert grandchild["domain_id"] == DEFAULT_DOMAIN  # inherited from the parent
    assert grandchild["parent_id"] == child["id"]
    listed = api.get("/v3/projects?parent_id=" + parent["id"]).json["projects"]
    assert [p["id"] for p in listed] == [child["id"]]
    # a non-leaf project cannot be deleted
    error_of(api.delete("/v3/projects/" + parent["id"], status="*"), 403)
    error_of(api.delete("/v3/projects/" + child["id"], status="*"), 403)
    api.delete("/v3/projects/" + grandchild["id"])
    api.delete("/v3/projects/" + child["id"])
    api.delete("/v3/projects/" + parent["id"])
    error_of(api.get("/v3/projects/" + parent["id"], status="*"), 404)


def test_project_parents_as_list(api: Api) -> None:
    parent = api.create_project()
    child = api.create_project(parent_id=parent["id"])
    grandchild = api.create_project(parent_id=child["id"])
    shown = api.get("/v3/projects/%s?parents_as_list" % grandchild["id"]).json["project"]
    assert {p["project"]["id"] for p in shown["parents"]} == {child["id"], parent["id"]}


def test_project_parent_in_another_domain_is_refused(api: Api) -> None:
    domain = api.create_domain()
    parent = api.create_project()
    body = {"project": {"name": unique("p"), "parent_id": parent["id"],
                        "domain_id": domain["id"]}}
    error_of(api.post("/v3/projects", body, status="*"), 400)


def test_project_unknown_parent_is_refused(api: Api) -> None:
    body = {"project": {"name": unique("p"), "parent_id": "f" * 32}}
    resp = api.post("/v3/projects", body, status="*")
    assert resp.status_int in (400, 404), resp.text


def test_project_filters(api: Api) -> None:
    domain = api.create_domain()
    a = api.create_project(domain_id=domain["id"])
    b = api.create_project(domain_id=domain["id"], enabled=False)
    elsewhere = api.create_project()
    by_domain = _ids(api.get("/v3/projects?domain_id=" + domain["id"]).json["projects"])
    assert by_domain == {a["id"], b["id"]}
    by_name = api.get("/v3/projects?name=" + a["name"]).json["projects"]
    assert [p["id"] for p in by_name] == [a["id"]]
    disabled = _ids(api.get("/v3/projects?enabled=false").json["projects"])
    assert b["id"] in disabled and a["id"] not in disabled
    enabled = _ids(api.get("/v3/projects?domain_id=%s&enabled=true"
                           % domain["id"]).json["projects"])
    assert enabled == {a["id"]}
    everything = _ids(api.get("/v3/projects").json["projects"])
    assert {a["id"], b["id"], elsewhere["id"]} <= everything


def test_project_filter_by_domain_as_parent(api: Api) -> None:
    domain = api.create_domain()
    top = api.create_project(domain_id=domain["id"])
    api.create_project(domain_id=domain["id"], parent_id=top["id"])
    by_parent = _ids(api.get("/v3/projects?parent_id=" + domain["id"]).json["projects"])
    assert by_parent == {top["id"]}


def test_project_update_name_and_enabled(api: Api) -> None:
    project = api.create_project()
    new_name = unique("renamed")
    updated = api.patch("/v3/projects/" + project["id"],
                        {"project": {"name": new_name, "enabled": False,
                                     "description": "later"}}).json["project"]
    assert updated["name"] == new_name
    assert updated["enabled"] is False
    assert updated["description"] == "later"
    shown = api.get("/v3/projects/" + project["id"]).json["project"]
    assert shown["name"] == new_name and shown["enabled"] is False


def test_project_patch_domain_id_is_refused(api: Api) -> None:
    project = api.create_project()
    other = api.create_domain()
    error_of(api.patch("/v3/projects/" + project["id"],
                       {"project": {"domain_id": other["id"]}}, status="*"), 400)
    assert api.get("/v3/projects/" + project["id"]).json["project"]["domain_id"] == \
        DEFAULT_DOMAIN


def test_project_update_and_delete_nonexistent(api: Api) -> None:
    error_of(api.patch("/v3/projects/" + "f" * 32, {"project": {"name": "x"}}, status="*"),
             404)
    error_of(api.delete("/v3/projects/" + "f" * 32, status="*"), 404)


def test_project_acting_as_a_domain(api: Api) -> None:
    name = unique("pdom")
    created = api.post("/v3/projects", {"project": {"name": name, "is_domain": True}}).json
    project = created["project"]
    assert project["is_domain"] is True
    assert project["domain_id"] is None and project["parent_id"] is None
    assert api.get("/v3/domains/" + project["id"]).json["domain"]["name"] == name
    assert api.get("/v3/projects/" + project["id"]).json["project"]["is_domain"] is True
    listed = api.get("/v3/projects?is_domain=true").json["projects"]
    assert project["id"] in _ids(listed) and all(p["is_domain"] for p in listed)
    assert project["id"] not in _ids(api.get("/v3/projects").json["projects"])
    error_of(api.post("/v3/projects", {"project": {"name": unique("p"), "is_domain": True,
                                                   "parent_id": project["id"]}},
                      status="*"), 400)


# -- tags ------------------------------------------------------------------------------------

def test_project_tags_lifecycle(api: Api) -> None:
    project = api.create_project(tags=["blue"])
    assert project["tags"] == ["blue"]
    path = "/v3/projects/%s/tags" % project["id"]
    resp = api.put(path + "/red", status=201)
    assert resp.headers["Location"].endswith(path + "/red")
    assert api.get(path).json == {"tags": ["blue", "red"]}
    api.head(path + "/red", status=204)
    api.get(path + "/red", status=204)
    error_of(api.get(path + "/green", status="*"), 404)
    api.delete(path + "/red")
    error_of(api.get(path + "/red", status="*"), 404)
    error_of(api.delete(path + "/red", status="*"), 404)
    assert api.get(path).json == {"tags": ["blue"]}
    replaced = api.put(path, {"tags": ["x", "y"]}, status=200).json
    assert replaced == {"tags": ["x", "y"]}
    assert api.get("/v3/projects/" + project["id"]).json["project"]["tags"] == ["x", "y"]
    api.delete(path)
    assert api.get(path).json == {"tags": []}


def test_project_tag_filters(api: Api) -> None:
    label = unique("tag")
    both = api.create_project(tags=[label, label + "-b"])
    one = api.create_project(tags=[label])
    none = api.create_project()
    found = _ids(api.get("/v3/projects?tags=%s,%s-b" % (label, label)).json["projects"])
    assert found == {both["id"]}
    found = _ids(api.get("/v3/projects?tags-any=%s-b,%s" % (label, label)).json["projects"])
    assert found == {both["id"], one["id"]}
    excluded = _ids(api.get("/v3/projects?not-tags=" + label).json["projects"])
    assert none["id"] in excluded and one["id"] not in excluded


def test_project_tags_bad_input(api: Api) -> None:
    project = api.create_project()
    path = "/v3/projects/%s/tags" % project["id"]
    error_of(api.put(path, {"tags": ["a", "a"]}, status="*"), 400)
    error_of(api.put(path, {"tags": ["a,b"]}, status="*"), 400)
    error_of(api.put(path, {"tags": ["t%d" % i for i in range(81)]}, status="*"), 400)
    error_of(api.put(path, {"tags": "a"}, status="*"), 400)


def test_single_tag_with_a_comma_is_refused(api: Api) -> None:
    project = api.create_project()
    error_of(api.put("/v3/projects/%s/tags/a,b" % project["id"], status="*"), 400)


def test_single_tag_limits(api: Api) -> None:
    project = api.create_project(tags=["t%d" % i for i in range(80)])
    path = "/v3/projects/%s/tags/" % project["id"]
    error_of(api.put(path + "t80", status="*"), 400)
    error_of(api.put(path + "x" * 256, status="*"), 400)
