"""A server's metadata, tags (2.26), ips, instance actions, and the external
events the network service sends."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from compute_api_helpers import Api, message, project

from compute import states
from tests.fixtures import compute as fx

SERVICE_CONF = {"quota": {"metadata_items": 3}}
VIF = {"id": "port-1", "address": "fa:16:3e:00:00:01",
       "network": {"id": "net-1", "label": "private", "subnets": [
           {"cidr": "10.0.0.0/24", "version": 4,
            "ips": [{"address": "10.0.0.5", "type": "fixed", "version": 4}]}]}}


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch, service: Any, api: Api) -> fx.Servers:
    return fx.Servers(api, service, fx.install_fakes(monkeypatch))


def test_metadata(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p, metadata={"a": "1"})
    base = "/servers/%s/metadata" % instance["uuid"]
    assert fakes.call("GET", base, p, status=200).json == {"metadata": {"a": "1"}}
    merged = fakes.call("POST", base, p, json_body={"metadata": {"b": "2"}}, status=200)
    assert merged.json == {"metadata": {"a": "1", "b": "2"}}
    replaced = fakes.call("PUT", base, p, json_body={"metadata": {"c": "3"}}, status=200)
    assert replaced.json == {"metadata": {"c": "3"}}
    assert fakes.call("GET", base + "/c", p, status=200).json == {"meta": {"c": "3"}}
    resp = fakes.call("GET", base + "/zz", p, status=404)
    assert message(resp) == "Metadata item was not found"
    one = fakes.call("PUT", base + "/d", p, json_body={"meta": {"d": "4"}}, status=200)
    assert one.json == {"meta": {"d": "4"}}
    resp = fakes.call("PUT", base + "/d", p, json_body={"meta": {"e": "4"}}, status=400)
    assert message(resp) == "Request body and URI mismatch"
    fakes.call("PUT", base + "/d", p, json_body={"meta": {"d": "4", "e": "5"}}, status=400)
    fakes.call("DELETE", base + "/d", p, status=204)
    fakes.call("DELETE", base + "/d", p, status=404)
    assert fakes.store.get(instance["uuid"])["metadata"] == {"c": "3"}


@pytest.mark.parametrize("body", [{"metadata": {"": "v"}}, {"metadata": {"k": "v" * 256}},
                                  {"metadata": {"k" * 256: "v"}}, {"metadata": None},
                                  {"meta": {"k": "v"}}, {}])
def test_metadata_bad_bodies(fakes: fx.Servers, body: Any) -> None:
    p = project()
    instance = fakes.active(p)
    fakes.call("POST", "/servers/%s/metadata" % instance["uuid"], p, json_body=body,
               status=400)


def test_metadata_limits_states_and_lock(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p, metadata={"a": "1", "b": "2"})
    base = "/servers/%s/metadata" % instance["uuid"]
    fakes.call("POST", base, p, json_body={"metadata": {"c": "3"}}, status=200)
    resp = fakes.call("POST", base, p, json_body={"metadata": {"d": "4"}}, status=403)
    assert message(resp) == "Maximum number of metadata items exceeds 3"
    fakes.call("PUT", base, p, json_body={"metadata": {k: k for k in "wxyz"}}, status=403)
    fakes.call("PUT", base + "/e", p, json_body={"meta": {"e": "5"}}, status=403)
    fakes.set(instance["uuid"], locked=True, locked_by="owner")
    fakes.call("PUT", base, p, json_body={"metadata": {}}, status=409)
    fakes.call("DELETE", base + "/a", p, status=409)
    fakes.call("GET", base, p, status=200)
    building = fakes.boot(p)
    resp = fakes.call("POST", "/servers/%s/metadata" % building, p,
                      json_body={"metadata": {"x": "y"}}, status=409)
    assert message(resp) == ("Cannot 'update metadata' instance %s while it is in "
                             "vm_state building" % building)
    fakes.call("GET", base, project(), status=404)
    fakes.call("POST", base, p, roles="reader", json_body={"metadata": {}}, status=403)


def test_tags(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    base = "/servers/%s/tags" % instance["uuid"]

    def call(method: str, path: str, status: int, **kwargs: Any) -> Any:
        return fakes.call(method, path, p, version="2.26", status=status, **kwargs)

    fakes.call("GET", base, p, status=404)  # no tags before 2.26
    assert call("GET", base, 200).json == {"tags": []}
    assert call("PUT", base, 200, json_body={"tags": ["b", "a", "a"]}).json == {
        "tags": ["a", "b"]}
    resp = call("PUT", base + "/c", 201)
    assert resp.headers["Location"].endswith(base + "/c")
    call("PUT", base + "/c", 204)
    call("GET", base + "/c", 204)
    call("GET", base + "/zz", 404)
    call("DELETE", base + "/c", 204)
    call("DELETE", base + "/c", 404)
    shown = call("GET", "/servers/" + instance["uuid"], 200).json["server"]
    assert shown["tags"] == ["a", "b"]
    call("DELETE", base, 204)
    assert call("GET", base, 200).json == {"tags": []}
    for bad in ({"tags": ["x" * 61]}, {"tags": ["a,b"]}, {"tags": ["a/b"]}, {"tags": [""]},
                {"tags": ["t%d" % i for i in range(51)]}, {"tags": "a"}, {}):
        call("PUT", base, 400, json_body=bad)
    call("PUT", base + "/a%2Cb", 400)
    call("PUT", base, 200, json_body={"tags": ["t%d" % i for i in range(50)]})
    resp = call("PUT", base + "/one-more", 400)
    assert message(resp) == "The number of tags exceeded the per-server limit 50"
    call("PUT", base + "/t1", 204)
    building = fakes.boot(p)
    call("PUT", "/servers/%s/tags/x" % building, 409)
    fakes.call("GET", base, project(), version="2.26", status=404)


def test_ips(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    fakes.set(instance["uuid"], network_info=[VIF])
    base = "/servers/%s/ips" % instance["uuid"]
    assert fakes.call("GET", base, p, status=200).json == {
        "addresses": {"private": [{"version": 4, "addr": "10.0.0.5"}]}}
    assert fakes.call("GET", base + "/private", p, status=200).json == {
        "private": [{"version": 4, "addr": "10.0.0.5"}]}
    fakes.call("GET", base + "/public", p, status=404)
    fakes.call("GET", base, project(), status=404)


def test_instance_actions(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    fakes.call("POST", "/servers/%s/action" % instance["uuid"], p, status=202,
               json_body={"reboot": {"type": "HARD"}})
    base = "/servers/%s/os-instance-actions" % instance["uuid"]
    actions = fakes.call("GET", base, p, status=200).json["instanceActions"]
    assert [a["action"] for a in actions] == ["reboot", "create"]
    assert set(actions[0]) == {"action", "instance_uuid", "message", "project_id",
                               "request_id", "start_time", "user_id"}
    assert actions[0]["project_id"] == p and actions[0]["user_id"] == "user-" + p
    request_id = actions[1]["request_id"]
    fakes.store.action_event_start(instance["uuid"], request_id, "compute_build")
    fakes.store.action_event_finish(instance["uuid"], request_id, "compute_build",
                                    "Error", "Traceback ...")
    shown = fakes.call("GET", base + "/" + request_id, p, status=200).json["instanceAction"]
    assert shown["action"] == "create" and "events" not in shown
    admin = fakes.call("GET", base + "/" + request_id, None, admin=True,
                       status=200).json["instanceAction"]
    (event,) = admin["events"]
    assert event["event"] == "compute_build" and event["result"] == "Error"
    assert set(event) == {"event", "start_time", "finish_time", "result", "traceback"}
    resp = fakes.call("GET", base + "/req-nope", p, status=404)
    assert "req-nope" in message(resp)
    fakes.call("GET", base, project(), status=404)
    # From 2.21 the actions of a deleted server stay readable.
    fakes.call("DELETE", "/servers/" + instance["uuid"], p, status=204)
    fakes.store.destroy(instance["uuid"])
    fakes.call("GET", base, p, status=404)
    listed = fakes.call("GET", base, p, version="2.21", status=200).json["instanceActions"]
    assert [a["action"] for a in listed] == ["delete", "reboot", "create"]


def test_external_events(fakes: fx.Servers) -> None:
    p = project()
    on_a = fakes.active(p, host="host-a")
    on_b = fakes.active(p, host="host-b")
    unscheduled = fakes.boot(p)
    missing = str(uuid.uuid4())
    events = [{"name": "network-vif-plugged", "server_uuid": on_a["uuid"], "tag": "port-1"},
              {"name": "network-changed", "server_uuid": on_b["uuid"],
               "status": "completed"},
              {"name": "network-vif-plugged", "server_uuid": on_a["uuid"], "tag": "port-2",
               "status": "failed"}]
    resp = fakes.call("POST", "/os-server-external-events", None, admin=True, status=200,
                      json_body={"events": events})
    assert [e["code"] for e in resp.json["events"]] == [200, 200, 200]
    assert resp.json["events"][0] == {"name": "network-vif-plugged", "tag": "port-1",
                                      "server_uuid": on_a["uuid"], "status": "completed",
                                      "code": 200}
    casts = {c["host"]: c["events"] for c in fakes.boundary.casts("external_instance_event")}
    assert [e["tag"] for e in casts["host-a"]] == ["port-1", "port-2"]
    assert casts["host-b"] == [{"name": "network-changed", "tag": None,
                                "status": "completed", "server_uuid": on_b["uuid"]}]
    fakes.boundary.rpc.clear()
    mixed = [{"name": "network-vif-plugged", "server_uuid": on_a["uuid"]},
             {"name": "network-vif-plugged", "server_uuid": missing},
             {"name": "network-vif-plugged", "server_uuid": unscheduled}]
    resp = fakes.call("POST", "/os-server-external-events", None, admin=True, status=207,
                      json_body={"events": mixed})
    assert [(e["code"], e["status"]) for e in resp.json["events"]] == [
        (200, "completed"), (404, "failed"), (422, "failed")]
    resp = fakes.call("POST", "/os-server-external-events", None, admin=True, status=404,
                      json_body={"events": mixed[1:]})
    assert message(resp) == "No instances found for any event"
    fakes.call("POST", "/os-server-external-events", "service", roles="service", status=200,
               json_body={"events": mixed[:1]})
    fakes.call("POST", "/os-server-external-events", p, status=403,
               json_body={"events": mixed[:1]})
    for bad in ({"events": []}, {"events": [{"name": "network-vif-plugged"}]},
                {"events": [{"name": "reboot", "server_uuid": on_a["uuid"]}]},
                {"events": [{"name": "network-changed", "server_uuid": "x"}]},
                {"events": [{"name": "network-changed", "server_uuid": on_a["uuid"],
                             "status": "done"}]}, {}):
        fakes.call("POST", "/os-server-external-events", None, admin=True, status=400,
                   json_body=bad)
    assert fakes.store.get(unscheduled)["vm_state"] == states.BUILDING
