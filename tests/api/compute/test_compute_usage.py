"""os-simple-tenant-usage (all projects for admins, one project for its members;
hours clipped to the period; paging at 2.40) and os-migrations (filters and the
fields of 2.23, 2.59 and 2.80; paging at 2.59)."""
from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
import compute_admin_helpers as helpers
from compute_admin_helpers import MvApi, add_instance
from compute_api_helpers import project

from compute.db import models

# The helpers' fixtures, used by name.
db, latest, mv = helpers.db, helpers.latest, helpers.mv

START = datetime.datetime(2030, 1, 1, 0, 0, 0)
FMT = "%Y-%m-%dT%H:%M:%S"


def _period(hours: int = 10) -> str:
    return "?start=%s&end=%s" % (START.strftime(FMT),
                                 (START + datetime.timedelta(hours=hours)).strftime(FMT))


@pytest.fixture(scope="module")
def usage_project(db: Any) -> dict[str, Any]:
    p = project()
    running = add_instance(db, p, launched_at=START + datetime.timedelta(hours=2),
                           display_name="running")
    gone = add_instance(db, p, launched_at=START - datetime.timedelta(hours=5),
                        terminated_at=START + datetime.timedelta(hours=4),
                        deleted=1, vm_state="deleted", display_name="gone")
    add_instance(db, p, launched_at=START + datetime.timedelta(hours=20),
                 display_name="later")
    return {"id": p, "running": running, "gone": gone}


def test_show_project_usage(mv: MvApi, usage_project: dict[str, Any]) -> None:
    p = usage_project["id"]
    usage = mv.at("2.1", "GET", "/v2.1/os-simple-tenant-usage/%s%s" % (p, _period()), p,
                  roles="member,reader", status=200).json["tenant_usage"]
    assert usage["tenant_id"] == p
    servers = {s["name"]: s for s in usage["server_usages"]}
    assert set(servers) == {"running", "gone"}
    assert servers["running"]["hours"] == pytest.approx(8.0)
    assert servers["gone"]["hours"] == pytest.approx(4.0)
    assert servers["gone"]["state"] == "terminated" and servers["gone"]["ended_at"]
    assert servers["running"]["state"] == "active" and servers["running"]["ended_at"] is None
    assert servers["running"]["flavor"] == "m1.tiny" and servers["running"]["local_gb"] == 1
    assert set(servers["running"]) == {"ended_at", "flavor", "hours", "instance_id",
                                       "local_gb", "memory_mb", "name", "started_at",
                                       "state", "tenant_id", "uptime", "vcpus"}
    assert usage["total_hours"] == pytest.approx(12.0)
    assert usage["total_memory_mb_usage"] == pytest.approx(12.0 * 128)
    assert usage["total_vcpus_usage"] == pytest.approx(12.0)
    assert usage["total_local_gb_usage"] == pytest.approx(12.0)
    assert usage["start"].startswith("2030-01-01T00:00:00")
    # Nothing in the period: an empty usage.
    empty = mv.at("2.1", "GET", "/v2.1/os-simple-tenant-usage/%s?start=2001-01-01T00:00:00"
                  "&end=2001-01-02T00:00:00" % p, status=200).json
    assert empty == {"tenant_usage": {}}
    mv.at("2.1", "GET", "/v2.1/os-simple-tenant-usage/%s%s" % (p, _period()), project(),
          roles="member,reader", status=403)


def test_list_usage(mv: MvApi, usage_project: dict[str, Any]) -> None:
    p = usage_project["id"]
    listed = mv.at("2.1", "GET", "/v2.1/os-simple-tenant-usage" + _period(),
                   status=200).json["tenant_usages"]
    mine = {t["tenant_id"]: t for t in listed}[p]
    assert "server_usages" not in mine and mine["total_hours"] == pytest.approx(12.0)
    detailed = mv.at("2.1", "GET", "/v2.1/os-simple-tenant-usage%s&detailed=1" % _period(),
                     status=200).json["tenant_usages"]
    assert len({t["tenant_id"]: t for t in detailed}[p]["server_usages"]) == 2
    mv.at("2.1", "GET", "/v2.1/os-simple-tenant-usage" + _period(), p,
          roles="member,reader", status=403)
    mv.at("2.1", "GET", "/v2.1/os-simple-tenant-usage?start=yesterday", status=400)
    mv.at("2.1", "GET", "/v2.1/os-simple-tenant-usage?start=2030-01-02T00:00:00"
          "&end=2030-01-01T00:00:00", status=400)


def test_usage_paging_at_240(mv: MvApi, usage_project: dict[str, Any]) -> None:
    p = usage_project["id"]
    first = mv.at("2.40", "GET", "/v2.1/os-simple-tenant-usage/%s%s&limit=1" % (
        p, _period()), status=200).json
    (server,) = first["tenant_usage"]["server_usages"]
    href = first["tenant_usage_links"][0]["href"]
    assert "marker=" + server["instance_id"] in href
    second = mv.at("2.40", "GET", "/v2.1/os-simple-tenant-usage/%s%s&limit=1&marker=%s" % (
        p, _period(), server["instance_id"]), status=200).json
    assert second["tenant_usage"]["server_usages"][0]["instance_id"] != server["instance_id"]
    mv.at("2.40", "GET", "/v2.1/os-simple-tenant-usage%s&marker=%s" % (
        _period(), uuid.uuid4()), status=400)


@pytest.fixture(scope="module")
def migrations(db: Any) -> list[dict[str, Any]]:
    made = []
    host = "mig-" + uuid.uuid4().hex[:6]
    with db.writer() as session:
        for index, (kind, status) in enumerate((("resize", "finished"),
                                                ("live-migration", "running"),
                                                ("migration", "error"))):
            row = models.Migration(
                uuid=str(uuid.uuid4()), instance_uuid=str(uuid.uuid4()),
                migration_type=kind, status=status, source_compute=host,
                source_node=host + ".local", dest_compute="dest-" + host,
                dest_node="dest.local", old_flavor_id="1", new_flavor_id="2",
                project_id="p-%d" % index, user_id="u-%d" % index,
                created_at=START + datetime.timedelta(minutes=index))
            session.add(row)
            session.flush()
            made.append({"id": row.id, "uuid": row.uuid, "host": host,
                         "instance_uuid": row.instance_uuid})
    return made


def test_migrations(mv: MvApi, migrations: list[dict[str, Any]]) -> None:
    host = migrations[0]["host"]
    listed = mv.at("2.1", "GET", "/v2.1/os-migrations?host=" + host,
                   status=200).json["migrations"]
    assert [m["id"] for m in listed] == [m["id"] for m in reversed(migrations)]
    assert set(listed[0]) == {"id", "status", "instance_uuid", "source_node",
                              "source_compute", "dest_node", "dest_compute", "dest_host",
                              "old_instance_type_id", "new_instance_type_id", "created_at",
                              "updated_at"}
    assert listed[0]["old_instance_type_id"] == 1
    only = mv.at("2.1", "GET", "/v2.1/os-migrations?status=error&host=" + host).json
    assert [m["id"] for m in only["migrations"]] == [migrations[2]["id"]]
    at223 = mv.at("2.23", "GET", "/v2.1/os-migrations?host=" + host).json["migrations"]
    live = {m["id"]: m for m in at223}[migrations[1]["id"]]
    assert live["migration_type"] == "live-migration"
    assert live["links"][0]["href"].endswith(
        "/servers/%s/migrations/%d" % (migrations[1]["instance_uuid"], migrations[1]["id"]))
    assert "links" not in {m["id"]: m for m in at223}[migrations[0]["id"]]
    at259 = mv.at("2.59", "GET", "/v2.1/os-migrations?limit=1&host=" + host).json
    assert at259["migrations"][0]["uuid"] == migrations[2]["uuid"]
    assert "migrations_links" in at259
    nxt = mv.at("2.59", "GET", "/v2.1/os-migrations?limit=5&host=%s&marker=%s" % (
        host, migrations[2]["uuid"])).json["migrations"]
    assert [m["id"] for m in nxt] == [migrations[1]["id"], migrations[0]["id"]]
    mv.at("2.59", "GET", "/v2.1/os-migrations?marker=%s" % uuid.uuid4(), status=400)
    mv.at("2.59", "GET", "/v2.1/os-migrations?changes-since=notatime", status=400)
    at280 = mv.at("2.80", "GET", "/v2.1/os-migrations?project_id=p-0&host=" + host).json
    (one,) = at280["migrations"]
    assert one["user_id"] == "u-0" and one["project_id"] == "p-0"
    mv.at("2.1", "GET", "/v2.1/os-migrations", project(), roles="member,reader", status=403)
