"""Server events for compute: which port changes mean which event, batching, the
"compute not deployed" case, and the REST call against a local HTTP server."""
from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from keystoneauth1 import exceptions as ks_exc

from common import context
from common.clients import base as clients_base
from network.clients import compute
from network.plugin import compute_notify
from tests.fixtures import network as fx

SERVER = "6f1c1b7e-3b0a-4a63-9d2e-6f0f3d7b9a11"


class Recorder:
    def __init__(self, fail: Exception | None = None) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.fail = fail

    def __call__(self, conf: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.fail is not None:
            raise self.fail
        self.batches.append(events)
        return [dict(e, code=200) for e in events]


def _port(owner: str = "compute:nova", device: str = SERVER) -> dict[str, Any]:
    return {"id": "p1", "device_owner": owner, "device_id": device, "status": "ACTIVE"}


@pytest.fixture
def conf(tmp_path: Any) -> Any:
    return fx.make_conf(str(tmp_path), DEFAULT={"send_events_interval": 0.05})


def test_status_changes_map_to_vif_events(conf: Any) -> None:
    sent = Recorder()
    notifier = compute_notify.ComputeNotifier(conf, send=sent)
    notifier.status_changed(_port(), "DOWN", "ACTIVE")
    notifier.status_changed(_port(), "ACTIVE", "DOWN")
    notifier.status_changed(_port(), "DOWN", "ERROR")
    notifier.status_changed(_port(), "BUILD", "DOWN")      # not an unplug
    notifier.status_changed(_port(), "ACTIVE", "ACTIVE")   # no change
    notifier.status_changed(_port(owner="network:dhcp"), "DOWN", "ACTIVE")
    notifier.status_changed(_port(device=""), "DOWN", "ACTIVE")
    notifier.flush()
    assert sent.batches == [[
        {"name": "network-vif-plugged", "status": "completed", "server_uuid": SERVER,
         "tag": "p1"},
        {"name": "network-vif-unplugged", "status": "completed", "server_uuid": SERVER,
         "tag": "p1"},
        {"name": "network-vif-plugged", "status": "failed", "server_uuid": SERVER,
         "tag": "p1"}]]


def test_options_turn_events_off(conf: Any) -> None:
    conf.set_override("notify_nova_on_port_status_changes", False)
    conf.set_override("notify_nova_on_port_data_changes", False)
    sent = Recorder()
    notifier = compute_notify.ComputeNotifier(conf, send=sent)
    notifier.status_changed(_port(), "DOWN", "ACTIVE")
    notifier.data_changed(_port(), "network-changed")
    notifier.flush()
    assert sent.batches == []


def test_background_thread_batches_and_survives_missing_compute(conf: Any) -> None:
    missing = Recorder(fail=compute.ComputeUnavailable("no compute endpoint"))
    notifier = compute_notify.ComputeNotifier(conf, send=missing)
    notifier.data_changed(_port(), "network-changed")
    notifier.flush()  # dropped, logged once, nothing raised
    sent = Recorder()
    notifier._send = sent
    done = threading.Event()
    original = notifier.flush

    def flush() -> None:
        original()
        if sent.batches:
            done.set()
    notifier.flush = flush  # type: ignore[method-assign]
    notifier.data_changed(_port(), "network-vif-deleted")
    notifier.data_changed(dict(_port(), id="p2"), "network-changed")
    assert done.wait(5)
    assert [e["tag"] for e in sent.batches[0]] == ["p1", "p2"]


def test_install_records_port_delete_and_address_change(conf: Any) -> None:
    # The sender thread must not send a part of the batch before the test flushes.
    conf.set_override("send_events_interval", 60)
    plugin = fx.make_plugin(conf)
    sent = Recorder()
    notifier = compute_notify.install(plugin, compute_notify.ComputeNotifier(conf, sent))
    ctxt = context.RequestContext(project_id="p", is_admin=True, roles=["admin"])
    net = plugin.networks.create(ctxt, {
        "project_id": "p", "name": "n", "admin_state_up": True, "shared": False,
        "router:external": False, "port_security_enabled": True, "mtu": 0})
    sub = plugin.subnets.create(ctxt, {
        "project_id": "p", "network_id": net["id"], "name": "", "ip_version": 4,
        "cidr": "10.9.0.0/24", "enable_dhcp": False, "allocation_pools": None})
    port = plugin.ports.create(ctxt, {"network_id": net["id"], "project_id": "p",
                                      "device_owner": "compute:nova", "device_id": SERVER})
    plugin.ports.update(ctxt, port["id"], {"fixed_ips": [{"subnet_id": sub["id"],
                                                          "ip_address": "10.9.0.77"}]})
    plugin.ports.update(ctxt, port["id"], {"name": "renamed"})  # no event
    plugin.ports.delete(ctxt, port["id"])
    notifier.flush()
    assert [(e["name"], e["tag"]) for e in sent.batches[0]] == [
        ("network-changed", port["id"]), ("network-vif-deleted", port["id"])]
    plugin.db.dispose()


class _Compute(http.server.BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append({"path": self.path, "body": body,
                                    "version": self.headers.get("OpenStack-API-Version")})
        events = [dict(e, code=200) for e in body["events"]]
        if events and events[0]["server_uuid"] == "missing":
            self.send_response(404)
            self.end_headers()
            return
        data = json.dumps({"events": events}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def compute_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Compute)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d/v2.1" % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        clients_base.reset()


def test_send_events_posts_to_compute(conf: Any, compute_url: str) -> None:
    conf.set_override("auth_type", "none", group="nova")
    conf.set_override("endpoint_override", compute_url, group="nova")
    events = [{"name": "network-vif-plugged", "server_uuid": SERVER, "tag": "p1",
               "status": "completed"}]
    answers = compute.send_events(conf, events)
    assert answers[0]["code"] == 200
    got = _Compute.received[-1]
    assert got["path"] == "/v2.1/os-server-external-events"
    assert got["body"] == {"events": events}
    assert got["version"] == "compute %s" % compute.MICROVERSION
    missing = compute.send_events(conf, [dict(events[0], server_uuid="missing")])
    assert missing[0]["code"] == 404


def test_send_events_without_compute_endpoint(conf: Any) -> None:
    conf.set_override("auth_type", "none", group="nova")
    conf.set_override("endpoint_override", "http://127.0.0.1:9/v2.1", group="nova")
    with pytest.raises(compute.ComputeUnavailable):
        compute.send_events(conf, [{"name": "network-changed", "server_uuid": SERVER}])
    clients_base.reset()
    assert ks_exc.ConnectFailure  # the failure class send_events maps
