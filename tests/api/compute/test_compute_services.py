"""os-services: list with filters (Nova's binary names), zones, up/down,
enable/disable/force-down in the pre-2.53 forms and PUT by uuid from 2.53,
delete; admin only."""
from __future__ import annotations

import datetime
import uuid
from typing import Any

import compute_admin_helpers as helpers
from compute_admin_helpers import MvApi, add_instance, add_service, app_of, name
from compute_api_helpers import message, project

from common.db import models as base_models
from compute import aggregates
from compute.db import hosts

# The helpers' fixtures, used by name.
db, latest, mv = helpers.db, helpers.latest, helpers.mv

SERVICE_CONF = {"DEFAULT": {"service_down_time": 60}}


def _listed(mv: MvApi, version: str = "2.1", query: str = "") -> list[dict[str, Any]]:
    return list(mv.at(version, "GET", "/v2.1/os-services" + query, status=200).json["services"])


def test_list_shows_nova_names_zones_and_state(mv: MvApi, db: Any) -> None:
    host = name()
    compute = add_service(db, host)
    add_service(db, host, "stratus-compute-conductor")
    old = base_models.utcnow() - datetime.timedelta(seconds=600)
    stale = add_service(db, name(), seen=old)
    services = {s["id"]: s for s in _listed(mv)}
    mine = services[compute["id"]]
    assert set(mine) == {"id", "binary", "host", "zone", "status", "state", "updated_at",
                         "disabled_reason"}
    assert mine["binary"] == "nova-compute" and mine["zone"] == "nova"
    assert mine["state"] == "up" and mine["status"] == "enabled"
    assert mine["disabled_reason"] is None and mine["updated_at"]
    assert services[stale["id"]]["state"] == "down"
    conductors = _listed(mv, query="?binary=nova-conductor&host=" + host)
    assert [(s["binary"], s["zone"]) for s in conductors] == [("nova-conductor", "internal")]
    assert all(s["binary"] == "nova-compute"
               for s in _listed(mv, query="?binary=nova-compute"))
    # forced_down from 2.11, uuids from 2.53.
    at211 = {s["id"]: s for s in _listed(mv, "2.11")}
    assert at211[compute["id"]]["forced_down"] is False
    at253 = {s["id"]: s for s in _listed(mv, "2.53")}
    assert at253[compute["uuid"]]["forced_down"] is False


def test_zone_comes_from_aggregates(mv: MvApi, db: Any, service: Any) -> None:
    host = name()
    compute = add_service(db, host)
    app = app_of(service)
    aggs = aggregates.AggregateService(app.conf, db)
    agg = aggs.create(name("agg"), availability_zone="az-" + host)
    aggs.add_host(agg["id"], host)
    listed = {s["id"]: s for s in _listed(mv, query="?host=" + host)}
    assert listed[compute["id"]]["zone"] == "az-" + host


def test_enable_disable_log_reason_and_force_down(mv: MvApi, db: Any) -> None:
    host = name()
    compute = add_service(db, host)
    body = {"host": host, "binary": "nova-compute"}
    resp = mv.at("2.1", "PUT", "/v2.1/os-services/disable", json_body=body, status=200)
    assert resp.json == {"service": dict(body, status="disabled")}
    resp = mv.at("2.1", "PUT", "/v2.1/os-services/disable-log-reason", status=200,
                 json_body=dict(body, disabled_reason="maintenance"))
    assert resp.json["service"]["disabled_reason"] == "maintenance"
    (shown,) = _listed(mv, query="?host=" + host)
    assert shown["status"] == "disabled" and shown["disabled_reason"] == "maintenance"
    mv.at("2.1", "PUT", "/v2.1/os-services/disable-log-reason", json_body=body, status=400)
    resp = mv.at("2.1", "PUT", "/v2.1/os-services/enable", json_body=body, status=200)
    assert resp.json == {"service": dict(body, status="enabled")}
    (shown,) = _listed(mv, query="?host=" + host)
    assert shown["status"] == "enabled" and shown["disabled_reason"] is None
    # force-down is 2.11+.
    mv.at("2.1", "PUT", "/v2.1/os-services/force-down",
          json_body=dict(body, forced_down=True), status=404)
    resp = mv.at("2.11", "PUT", "/v2.1/os-services/force-down",
                 json_body=dict(body, forced_down=True), status=200)
    assert resp.json == {"service": dict(body, forced_down=True)}
    (shown,) = _listed(mv, "2.11", query="?host=" + host)
    assert shown["forced_down"] is True and shown["state"] == "down"
    assert hosts.HostStore(db).service_get(compute["id"])["forced_down"] is True
    # Bad input.
    mv.at("2.1", "PUT", "/v2.1/os-services/bogus", json_body=body, status=404)
    mv.at("2.1", "PUT", "/v2.1/os-services/enable", json_body={"host": host}, status=400)
    mv.at("2.1", "PUT", "/v2.1/os-services/enable", status=400,
          json_body=dict(body, extra=1))
    resp = mv.at("2.1", "PUT", "/v2.1/os-services/enable", status=404,
                 json_body={"host": "nowhere", "binary": "nova-compute"})
    assert "nowhere" in message(resp)


def test_update_by_uuid_at_253(mv: MvApi, db: Any) -> None:
    host = name()
    compute = add_service(db, host)
    url = "/v2.1/os-services/" + compute["uuid"]
    resp = mv.at("2.53", "PUT", url, status=200,
                 json_body={"status": "disabled", "disabled_reason": "fenced"})
    shown = resp.json["service"]
    assert shown["id"] == compute["uuid"] and shown["status"] == "disabled"
    assert shown["disabled_reason"] == "fenced" and shown["zone"] == "nova"
    assert set(shown) == {"id", "binary", "disabled_reason", "host", "state", "status",
                          "updated_at", "zone", "forced_down"}
    resp = mv.at("2.53", "PUT", url, json_body={"forced_down": True}, status=200)
    assert resp.json["service"]["forced_down"] is True
    resp = mv.at("2.53", "PUT", url, json_body={"status": "enabled"}, status=200)
    assert resp.json["service"]["disabled_reason"] is None
    mv.at("2.53", "PUT", url, json_body={}, status=400)
    mv.at("2.53", "PUT", url, status=400,
          json_body={"status": "enabled", "disabled_reason": "x"})
    mv.at("2.53", "PUT", url, json_body={"status": "off"}, status=400)
    mv.at("2.53", "PUT", "/v2.1/os-services/not-a-uuid", json_body={"status": "enabled"},
          status=400)
    mv.at("2.53", "PUT", "/v2.1/os-services/%s" % uuid.uuid4(),
          json_body={"status": "enabled"}, status=404)
    # The old action forms are gone at 2.53; non-compute services cannot be updated.
    mv.at("2.53", "PUT", "/v2.1/os-services/enable", status=400,
          json_body={"host": host, "binary": "nova-compute"})
    scheduler = add_service(db, host, "stratus-compute-scheduler")
    mv.at("2.53", "PUT", "/v2.1/os-services/" + scheduler["uuid"],
          json_body={"status": "disabled"}, status=400)


def test_delete(mv: MvApi, db: Any) -> None:
    busy = add_service(db, name())
    add_instance(db, project(), host=busy["host"])
    resp = mv.at("2.1", "DELETE", "/v2.1/os-services/%d" % busy["id"], status=409)
    assert "hosting instances" in message(resp)
    idle = add_service(db, name())
    mv.at("2.1", "DELETE", "/v2.1/os-services/%d" % idle["id"], status=204)
    mv.at("2.1", "DELETE", "/v2.1/os-services/%d" % idle["id"], status=404)
    mv.at("2.1", "DELETE", "/v2.1/os-services/abc", status=400)
    other = add_service(db, name())
    mv.at("2.53", "DELETE", "/v2.1/os-services/%d" % other["id"], status=400)
    mv.at("2.53", "DELETE", "/v2.1/os-services/" + other["uuid"], status=204)
    assert not _listed(mv, query="?host=" + other["host"])


def test_members_are_refused(mv: MvApi, db: Any) -> None:
    compute = add_service(db, name())
    member = {"project_id": project(), "roles": "member,reader"}
    mv.at("2.1", "GET", "/v2.1/os-services", status=403, **member)
    mv.at("2.1", "PUT", "/v2.1/os-services/disable", status=403, **member,
          json_body={"host": compute["host"], "binary": "nova-compute"})
    mv.at("2.1", "DELETE", "/v2.1/os-services/%d" % compute["id"], status=403, **member)
