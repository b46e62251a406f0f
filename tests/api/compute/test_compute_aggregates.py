"""os-aggregates (CRUD, add_host/remove_host/set_metadata, availability zones
through the ``availability_zone`` metadata and Nova's zone rules; uuid at 2.41)
and os-availability-zone (+detail)."""
from __future__ import annotations

import datetime
from typing import Any

import compute_admin_helpers as helpers
from compute_admin_helpers import MvApi, add_instance, add_service, name
from compute_api_helpers import message, project

from common.db import models as base_models

# The helpers' fixtures, used by name.
db, latest, mv = helpers.db, helpers.latest, helpers.mv

URL = "/v2.1/os-aggregates"
FIELDS = {"availability_zone", "created_at", "deleted", "deleted_at", "hosts", "id",
          "metadata", "name", "updated_at"}


def _create(mv: MvApi, status: int = 200, version: str = "2.1", **body: Any) -> Any:
    body.setdefault("name", name("agg"))
    resp = mv.at(version, "POST", URL, json_body={"aggregate": body}, status=status)
    return resp.json.get("aggregate", resp.json)


def _action(mv: MvApi, agg: dict[str, Any], status: int = 200, **body: Any) -> Any:
    resp = mv.at("2.1", "POST", "%s/%d/action" % (URL, agg["id"]), json_body=body,
                 status=status)
    return resp.json.get("aggregate", resp.json)


def test_crud(mv: MvApi) -> None:
    created = _create(mv, availability_zone=name("zone"))
    assert set(created) == FIELDS - {"hosts", "metadata"}
    assert created["deleted"] is False and created["deleted_at"] is None
    shown = mv.at("2.1", "GET", "%s/%d" % (URL, created["id"]), status=200).json["aggregate"]
    assert set(shown) == FIELDS and shown["hosts"] == []
    assert shown["metadata"] == {"availability_zone": created["availability_zone"]}
    listed = mv.at("2.1", "GET", URL, status=200).json["aggregates"]
    assert created["id"] in [a["id"] for a in listed]
    renamed = mv.at("2.1", "PUT", "%s/%d" % (URL, created["id"]), status=200,
                    json_body={"aggregate": {"name": created["name"] + "-x",
                                             "availability_zone": "other-zone"}}).json
    assert renamed["aggregate"]["name"] == created["name"] + "-x"
    assert renamed["aggregate"]["availability_zone"] == "other-zone"
    assert renamed["aggregate"]["updated_at"] is not None
    at241 = mv.at("2.41", "GET", "%s/%d" % (URL, created["id"]), status=200).json
    assert at241["aggregate"]["uuid"]
    resp = mv.at("2.1", "DELETE", "%s/%d" % (URL, created["id"]), status=200)
    assert resp.body == b""
    mv.at("2.1", "GET", "%s/%d" % (URL, created["id"]), status=404)
    mv.at("2.1", "DELETE", "%s/%d" % (URL, created["id"]), status=404)


def test_bad_input(mv: MvApi) -> None:
    taken = _create(mv)
    _create(mv, status=409, name=taken["name"])
    _create(mv, status=400, name="")
    _create(mv, status=400, availability_zone="a:b")
    _create(mv, status=400, availability_zone="internal")
    _create(mv, status=400, bogus=1)
    mv.at("2.1", "GET", URL + "/abc", status=400)
    mv.at("2.1", "PUT", "%s/%d" % (URL, taken["id"]), json_body={"aggregate": {}},
          status=400)
    other = _create(mv)
    mv.at("2.1", "PUT", "%s/%d" % (URL, other["id"]), status=409,
          json_body={"aggregate": {"name": taken["name"]}})
    _action(mv, taken, status=400, add_host={"host": "h"}, remove_host={"host": "h"})
    _action(mv, taken, status=400, explode={})
    _action(mv, taken, status=400, set_metadata={"metadata": {"bad/key": "v"}})
    mv.at("2.1", "POST", URL + "/999999/action", json_body={"add_host": {"host": "x"}},
          status=404)


def test_hosts_metadata_and_zone_rules(mv: MvApi, db: Any) -> None:
    host, other = name(), name()
    add_service(db, host)
    add_service(db, other)
    zone_a, zone_b = name("az"), name("az")
    a = _create(mv, availability_zone=zone_a)
    b = _create(mv, availability_zone=zone_b)
    plain = _create(mv)
    added = _action(mv, a, add_host={"host": host})
    assert added["hosts"] == [host]
    resp = _action(mv, a, status=409, add_host={"host": host})
    assert host in message(resp)
    _action(mv, a, status=404, add_host={"host": "no-such-host"})
    # A host is in one zone only; an aggregate without a zone takes any host.
    resp = _action(mv, b, status=409, add_host={"host": host})
    assert zone_a in message(resp)
    assert _action(mv, plain, add_host={"host": host})["hosts"] == [host]
    # Giving plain a zone that conflicts with its host's zone is refused.
    _action(mv, plain, status=400, set_metadata={"metadata": {"availability_zone": zone_b}})
    meta = _action(mv, plain, set_metadata={"metadata": {"ssd": "true", "gpu": "no"}})
    assert meta["metadata"] == {"ssd": "true", "gpu": "no"}
    meta = _action(mv, plain, set_metadata={"metadata": {"gpu": None}})
    assert meta["metadata"] == {"ssd": "true"}
    # A zone may not change under servers.
    add_instance(db, project(), host=host)
    mv.at("2.1", "PUT", "%s/%d" % (URL, a["id"]), status=400,
          json_body={"aggregate": {"availability_zone": zone_b}})
    # Delete needs an empty aggregate.
    mv.at("2.1", "DELETE", "%s/%d" % (URL, plain["id"]), status=400)
    assert _action(mv, plain, remove_host={"host": host})["hosts"] == []
    _action(mv, plain, status=404, remove_host={"host": host})
    mv.at("2.1", "DELETE", "%s/%d" % (URL, plain["id"]), status=200)
    # The host's service shows its zone.
    services = mv.at("2.1", "GET", "/v2.1/os-services?host=" + host).json["services"]
    assert services[0]["zone"] == zone_a


def test_availability_zones(mv: MvApi, db: Any) -> None:
    host, lonely, down = name(), name(), name()
    add_service(db, host)
    add_service(db, lonely)
    add_service(db, down, seen=base_models.utcnow() - datetime.timedelta(hours=1))
    add_service(db, host, "stratus-compute-conductor")
    zone = name("az")
    agg = _create(mv, availability_zone=zone)
    _action(mv, agg, add_host={"host": host})
    _create(mv, availability_zone=name("empty-zone"))
    member = {"project_id": project(), "roles": "member,reader"}
    zones = mv.at("2.1", "GET", "/v2.1/os-availability-zone", status=200,
                  **member).json["availabilityZoneInfo"]
    by_name = {z["zoneName"]: z for z in zones}
    assert by_name[zone] == {"zoneName": zone, "zoneState": {"available": True},
                             "hosts": None}
    assert by_name["nova"]["zoneState"] == {"available": True}
    assert "internal" not in by_name
    assert not [z for z in by_name if z.startswith("empty-zone")]
    mv.at("2.1", "GET", "/v2.1/os-availability-zone/detail", status=403, **member)
    detail = {z["zoneName"]: z for z in mv.at(
        "2.1", "GET", "/v2.1/os-availability-zone/detail",
        status=200).json["availabilityZoneInfo"]}
    entry = detail[zone]["hosts"][host]["nova-compute"]
    assert entry["available"] is True and entry["active"] is True and entry["updated_at"]
    assert detail["nova"]["hosts"][down]["nova-compute"]["available"] is False
    assert detail["internal"]["hosts"][host]["nova-conductor"]["active"] is True
    # A zone whose services are all disabled is shown as unavailable.
    mv.at("2.1", "PUT", "/v2.1/os-services/disable", status=200,
          json_body={"host": host, "binary": "nova-compute"})
    zones = mv.at("2.1", "GET", "/v2.1/os-availability-zone").json["availabilityZoneInfo"]
    assert {z["zoneName"]: z for z in zones}[zone]["zoneState"] == {"available": False}


def test_members_are_refused(mv: MvApi) -> None:
    agg = _create(mv)
    member = {"project_id": project(), "roles": "member,reader"}
    mv.at("2.1", "GET", URL, status=403, **member)
    mv.at("2.1", "POST", URL, json_body={"aggregate": {"name": "x"}}, status=403, **member)
    mv.at("2.1", "GET", "%s/%d" % (URL, agg["id"]), status=403, **member)
    mv.at("2.1", "DELETE", "%s/%d" % (URL, agg["id"]), status=403, **member)
    mv.at("2.1", "POST", "%s/%d/action" % (URL, agg["id"]), status=403, **member,
          json_body={"set_metadata": {"metadata": {"a": "b"}}})


def test_ids_out_of_range(mv: MvApi) -> None:
    mv.at("2.1", "GET", URL + "/99999999999999999999", status=404)
    mv.at("2.1", "GET", URL + "/%C2%B2", status=400)
    mv.at("2.1", "GET", "/v2.1/os-hypervisors/99999999999999999999", status=404)
    mv.at("2.1", "GET", "/v2.1/os-hypervisors/%C2%B2", status=404)
    mv.at("2.1", "DELETE", "/v2.1/os-services/99999999999999999999", status=404)
    mv.at("2.1", "DELETE", "/v2.1/os-services/%C2%B2", status=400)
