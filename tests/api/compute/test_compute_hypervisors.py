"""os-hypervisors: list, detail, show, statistics, search and servers, with the
2.28 (cpu_info object), 2.33 (paging) and 2.53 (uuids, query parameters)
changes; admin only."""
from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import compute_admin_helpers as helpers
from compute_admin_helpers import MvApi, add_instance, add_node, add_service, name
from compute_api_helpers import project

# The helpers' fixtures, used by name.
db, latest, mv = helpers.db, helpers.latest, helpers.mv

DETAIL = {"id", "hypervisor_hostname", "state", "status", "vcpus", "vcpus_used", "memory_mb",
          "memory_mb_used", "local_gb", "local_gb_used", "free_ram_mb", "free_disk_gb",
          "running_vms", "current_workload", "disk_available_least", "hypervisor_type",
          "hypervisor_version", "host_ip", "cpu_info", "service"}


@pytest.fixture(scope="module")
def nodes(db: Any) -> list[dict[str, Any]]:
    prefix = name("hv")
    made = []
    for index in range(3):
        host = "%s-%d" % (prefix, index)
        service = add_service(db, host)
        node = add_node(db, host)
        made.append(dict(node, service=service, prefix=prefix))
    add_instance(db, project(), host=made[0]["host"], node=made[0]["hypervisor_hostname"],
                 display_name="on-zero")
    return made


def test_list_and_detail(mv: MvApi, nodes: list[dict[str, Any]]) -> None:
    listed = mv.at("2.1", "GET", "/v2.1/os-hypervisors", status=200).json["hypervisors"]
    mine = {h["id"]: h for h in listed}[nodes[0]["id"]]
    assert mine == {"id": nodes[0]["id"], "hypervisor_hostname": nodes[0]["hypervisor_hostname"],
                    "state": "up", "status": "enabled"}
    detail = mv.at("2.1", "GET", "/v2.1/os-hypervisors/detail", status=200).json
    mine = {h["id"]: h for h in detail["hypervisors"]}[nodes[0]["id"]]
    assert set(mine) == DETAIL
    assert json.loads(mine["cpu_info"]) == {"arch": "x86_64"}
    assert mine["free_ram_mb"] == 7168 and mine["free_disk_gb"] == 90
    assert mine["service"] == {"host": nodes[0]["host"], "id": nodes[0]["service"]["id"],
                               "disabled_reason": None}
    at228 = mv.at("2.28", "GET", "/v2.1/os-hypervisors/detail", status=200).json
    assert {h["id"]: h for h in at228["hypervisors"]}[nodes[0]["id"]]["cpu_info"] == {
        "arch": "x86_64"}


def test_show_and_statistics(mv: MvApi, nodes: list[dict[str, Any]]) -> None:
    shown = mv.at("2.1", "GET", "/v2.1/os-hypervisors/%d" % nodes[1]["id"],
                  status=200).json["hypervisor"]
    assert set(shown) == DETAIL and shown["hypervisor_hostname"].startswith(nodes[1]["host"])
    mv.at("2.1", "GET", "/v2.1/os-hypervisors/999999", status=404)
    mv.at("2.1", "GET", "/v2.1/os-hypervisors/abc", status=404)
    stats = mv.at("2.1", "GET", "/v2.1/os-hypervisors/statistics",
                  status=200).json["hypervisor_statistics"]
    assert set(stats) == {"count", "vcpus", "memory_mb", "local_gb", "vcpus_used",
                          "memory_mb_used", "local_gb_used", "free_ram_mb", "free_disk_gb",
                          "running_vms", "disk_available_least", "current_workload"}
    assert stats["count"] >= 3 and stats["vcpus"] >= 24


def test_search_and_servers_before_253(mv: MvApi, nodes: list[dict[str, Any]]) -> None:
    prefix = nodes[0]["prefix"]
    found = mv.at("2.1", "GET", "/v2.1/os-hypervisors/%s/search" % prefix,
                  status=200).json["hypervisors"]
    assert sorted(h["id"] for h in found) == sorted(n["id"] for n in nodes)
    mv.at("2.1", "GET", "/v2.1/os-hypervisors/nomatch-%s/search" % prefix, status=404)
    withs = mv.at("2.1", "GET", "/v2.1/os-hypervisors/%s/servers" % prefix,
                  status=200).json["hypervisors"]
    by_id = {h["id"]: h for h in withs}
    assert [s["name"] for s in by_id[nodes[0]["id"]]["servers"]] == ["on-zero"]
    assert "servers" not in by_id[nodes[1]["id"]]
    mv.at("2.53", "GET", "/v2.1/os-hypervisors/%s/search" % prefix, status=404)
    mv.at("2.53", "GET", "/v2.1/os-hypervisors/%s/servers" % prefix, status=404)


def test_paging_at_233(mv: MvApi, nodes: list[dict[str, Any]]) -> None:
    page = mv.at("2.33", "GET", "/v2.1/os-hypervisors?limit=1&marker=%d" % nodes[0]["id"],
                 status=200).json
    assert [h["id"] for h in page["hypervisors"]] == [nodes[1]["id"]]
    assert "marker=%d" % nodes[1]["id"] in page["hypervisors_links"][0]["href"]
    mv.at("2.33", "GET", "/v2.1/os-hypervisors?marker=99999999", status=400)
    mv.at("2.33", "GET", "/v2.1/os-hypervisors?limit=-1", status=400)
    # Before 2.33 paging parameters are ignored.
    everything = mv.at("2.1", "GET", "/v2.1/os-hypervisors?limit=1", status=200).json
    assert len(everything["hypervisors"]) >= 3 and "hypervisors_links" not in everything


def test_uuids_and_query_at_253(mv: MvApi, nodes: list[dict[str, Any]]) -> None:
    prefix = nodes[0]["prefix"]
    resp = mv.at("2.53", "GET", "/v2.1/os-hypervisors?hypervisor_hostname_pattern=%s"
                 "&with_servers=true" % prefix, status=200).json["hypervisors"]
    by_id = {h["id"]: h for h in resp}
    assert set(by_id) == {n["uuid"] for n in nodes}
    assert by_id[nodes[0]["uuid"]]["servers"][0]["name"] == "on-zero"
    assert "servers" not in by_id[nodes[1]["uuid"]]
    at275 = mv.at("2.75", "GET", "/v2.1/os-hypervisors/detail?hypervisor_hostname_pattern=%s"
                  "&with_servers=1" % prefix, status=200).json["hypervisors"]
    assert all("servers" in h for h in at275)
    assert {h["service"]["id"] for h in at275} == {n["service"]["uuid"] for n in nodes}
    mv.at("2.53", "GET", "/v2.1/os-hypervisors?hypervisor_hostname_pattern=zz-%s" % prefix,
          status=404)
    mv.at("2.53", "GET", "/v2.1/os-hypervisors?hypervisor_hostname_pattern=%s&limit=1"
          % prefix, status=400)
    mv.at("2.53", "GET", "/v2.1/os-hypervisors?bogus=1", status=400)
    shown = mv.at("2.53", "GET", "/v2.1/os-hypervisors/%s?with_servers=true"
                  % nodes[0]["uuid"], status=200).json["hypervisor"]
    assert shown["id"] == nodes[0]["uuid"] and len(shown["servers"]) == 1
    mv.at("2.53", "GET", "/v2.1/os-hypervisors/%d" % nodes[0]["id"], status=400)
    mv.at("2.53", "GET", "/v2.1/os-hypervisors/%s" % uuid.uuid4(), status=404)
    page = mv.at("2.53", "GET", "/v2.1/os-hypervisors?limit=1&marker=%s" % nodes[0]["uuid"],
                 status=200).json["hypervisors"]
    assert [h["id"] for h in page] == [nodes[1]["uuid"]]


def test_members_are_refused(mv: MvApi, nodes: list[dict[str, Any]]) -> None:
    member = {"project_id": project(), "roles": "member,reader"}
    for path in ("", "/detail", "/statistics", "/%d" % nodes[0]["id"],
                 "/%s/search" % nodes[0]["prefix"], "/%s/servers" % nodes[0]["prefix"]):
        mv.at("2.1", "GET", "/v2.1/os-hypervisors" + path, status=403, **member)
