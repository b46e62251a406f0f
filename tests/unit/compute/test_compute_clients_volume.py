"""compute.clients.volume against a stand-in block storage API (a real HTTP server
on a free local port speaking the Cinder v3 attachments API as its reference
describes it): URLs with the caller's project, the microversion header, the
attachment flow and the error mapping."""
from __future__ import annotations

import http.server
import json
import pathlib
import re
import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from oslo_config import cfg

from common import context
from common.clients import base
from compute import clients
from compute import exception
from compute.clients import volume as cinder

SERVICE_TOKEN = "svc-token"
SERVICE_PROJECT = "service-project"
ROUTE = re.compile(r"^/v3(?:/(?P<project>[0-9a-z-]+))?/(?P<kind>volumes|attachments)"
                   r"(?:/(?P<id>[^/]+))?(?P<action>/action)?$")
CONNECTION = {"driver_volume_type": "iscsi", "target_iqn": "iqn.2010-10.org:vol",
              "target_portal": "192.0.2.1:3260", "target_lun": 1, "encrypted": False}


class FakeCinder(http.server.ThreadingHTTPServer):
    """Volumes and attachments in memory, recording every request."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.volumes: dict[str, dict[str, Any]] = {}
        self.attachments: dict[str, dict[str, Any]] = {}
        self.seen: list[dict[str, Any]] = []
        self.max_version = (3, 70)
        self.lock = threading.Lock()

    def add_volume(self, project: str, multiattach: bool = False) -> dict[str, Any]:
        vol = {"id": str(uuid.uuid4()), "status": "available", "project": project,
               "multiattach": multiattach, "attachments": []}
        self.volumes[vol["id"]] = vol
        return vol


def _error(code: int, message: str) -> tuple[int, dict[str, Any]]:
    name = {400: "badRequest", 403: "forbidden", 404: "itemNotFound",
            406: "notAcceptable"}.get(code, "computeFault")
    return code, {name: {"code": code, "message": message}}


class Handler(http.server.BaseHTTPRequestHandler):
    server: FakeCinder

    def log_message(self, *args: Any) -> None:
        pass

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.server.seen.append({"method": self.command, "path": self.path, "body": body,
                                 "headers": dict(self.headers)})
        with self.server.lock:
            code, answer = self._answer(body)
        data = json.dumps(answer).encode() if answer is not None else b""
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _dispatch

    def _answer(self, body: Any) -> tuple[int, Any]:
        version = self.headers.get("OpenStack-API-Version", "")
        found_version = re.match(r"^volume (\d+)\.(\d+)$", version)
        if not found_version:
            return _error(400, "no volume microversion")
        wanted = (int(found_version.group(1)), int(found_version.group(2)))
        if wanted > self.server.max_version:
            return _error(406, "Version %s is not supported by the API." % version)
        if self.headers.get("X-Auth-Token") not in (SERVICE_TOKEN, "user-token"):
            return _error(403, "Policy doesn't allow this.")
        route = ROUTE.match(self.path)
        if route is None:
            return _error(404, "no such path")
        kind, item, action = route.group("kind"), route.group("id"), route.group("action")
        if kind == "volumes":
            vol = self.server.volumes.get(item or "")
            if vol is None:
                return _error(404, "Volume %s could not be found." % item)
            return 200, {"volume": vol}
        if item is None and self.command == "POST":
            return self._create(body["attachment"])
        att = self.server.attachments.get(item or "")
        if att is None:
            return _error(404, "Volume attachment %s could not be found." % item)
        vol = self.server.volumes[att["volume_id"]]
        if self.command == "GET":
            return 200, {"attachment": att}
        if self.command == "PUT":
            att["connection_info"] = dict(CONNECTION, attachment_id=att["id"])
            att["status"] = "attaching"
            return 200, {"attachment": att}
        if self.command == "POST" and action and body == {"os-complete": None}:
            att["status"], vol["status"] = "attached", "in-use"
            vol["attachments"].append({"server_id": att["instance"],
                                       "attachment_id": att["id"]})
            return 204, None
        if self.command == "DELETE":
            del self.server.attachments[att["id"]]
            vol["attachments"] = [a for a in vol["attachments"]
                                  if a["attachment_id"] != att["id"]]
            if not vol["attachments"]:
                vol["status"] = "available"
            return 200, {}
        return _error(400, "bad request")

    def _create(self, req: dict[str, Any]) -> tuple[int, Any]:
        vol = self.server.volumes.get(req["volume_uuid"])
        if vol is None:
            return _error(404, "Volume %s could not be found." % req["volume_uuid"])
        if vol["status"] not in ("available", "downloading") and not (
                vol["multiattach"] and vol["status"] in ("in-use", "reserved")):
            return _error(400, "Invalid volume: Volume %s status must be available or "
                               "downloading to reserve, but the current status is %s."
                          % (vol["id"], vol["status"]))
        att = {"id": str(uuid.uuid4()), "volume_id": vol["id"],
               "instance": req["instance_uuid"], "status": "reserved",
               "attach_mode": req.get("mode", "null"), "connection_info": {}}
        if req.get("connector"):
            att["connection_info"] = dict(CONNECTION, attachment_id=att["id"])
            att["status"] = "attaching"
        if vol["status"] == "available":
            vol["status"] = "reserved"
        self.server.attachments[att["id"]] = att
        return 200, {"attachment": att}


@pytest.fixture
def fake() -> Iterator[FakeCinder]:
    server = FakeCinder()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def make_conf(tmp_path: pathlib.Path, endpoint: str) -> cfg.ConfigOpts:
    path = tmp_path / "compute.conf"
    path.write_text("[cinder]\nauth_type = admin_token\ntoken = %s\nendpoint = %s\n"
                    % (SERVICE_TOKEN, endpoint))
    base.reset()
    conf = cfg.ConfigOpts()
    clients.register_opts(conf)
    conf(["--config-file", str(path)], project="stratus-test", default_config_files=[])
    return conf


@pytest.fixture
def conf(fake: FakeCinder, tmp_path: pathlib.Path) -> Iterator[cfg.ConfigOpts]:
    # The catalog's URL names the service's project, as keystone fills it in for
    # the service's own token.
    yield make_conf(tmp_path, "http://127.0.0.1:%d/v3/%s" % (fake.server_address[1],
                                                             SERVICE_PROJECT))
    base.reset()


def user(project: str = "p1") -> context.RequestContext:
    return context.RequestContext(auth_token="user-token", user_id="u", project_id=project)


def test_attachment_flow(fake: FakeCinder, conf: cfg.ConfigOpts) -> None:
    vol = fake.add_volume("p1")
    server = str(uuid.uuid4())
    ctxt = user()
    got = cinder.get_volume(conf, ctxt, vol["id"])
    assert got["status"] == "available"
    cinder.check_attachable(got, server)
    att = cinder.attachment_create(conf, ctxt, vol["id"], server)
    assert (att["status"], att["instance"], att["connection_info"]) == (
        "reserved", server, {})
    first = fake.seen[-1]
    assert first["path"] == "/v3/p1/attachments"  # the user's project, not the service's
    assert first["headers"]["OpenStack-API-Version"] == "volume 3.44"
    assert first["headers"]["X-Service-Token"] == SERVICE_TOKEN
    assert first["headers"]["X-OpenStack-Request-ID"] == ctxt.global_id
    assert first["body"] == {"attachment": {"volume_uuid": vol["id"],
                                            "instance_uuid": server}}
    assert cinder.get_volume(conf, ctxt, vol["id"])["status"] == "reserved"
    connector = {"initiator": "iqn.1993-08.org.debian:01:abc", "ip": "192.0.2.10",
                 "host": "node-1", "multipath": False, "platform": "x86_64",
                 "os_type": "linux"}
    info = cinder.attachment_update(conf, ctxt, att["id"], connector, mountpoint="/dev/vdb")
    assert fake.seen[-1]["body"] == {"attachment": {"connector": dict(
        connector, mountpoint="/dev/vdb")}}
    assert info == {"driver_volume_type": "iscsi", "attachment_id": att["id"], "data": {
        "target_iqn": "iqn.2010-10.org:vol", "target_portal": "192.0.2.1:3260",
        "target_lun": 1, "encrypted": False}}
    cinder.attachment_complete(conf, ctxt, att["id"])
    assert fake.seen[-1]["path"] == "/v3/p1/attachments/%s/action" % att["id"]
    in_use = cinder.get_volume(conf, ctxt, vol["id"])
    assert in_use["status"] == "in-use"
    with pytest.raises(exception.InvalidVolume):
        cinder.check_attachable(in_use, str(uuid.uuid4()))
    assert cinder.attachment_get(conf, ctxt, att["id"])["status"] == "attached"
    cinder.attachment_delete(conf, ctxt, att["id"])
    assert cinder.get_volume(conf, ctxt, vol["id"])["status"] == "available"
    with pytest.raises(exception.VolumeAttachmentNotFound) as gone:
        cinder.attachment_delete(conf, ctxt, att["id"])
    assert gone.value.code == 404


def test_create_with_connector_and_mode(fake: FakeCinder, conf: cfg.ConfigOpts) -> None:
    vol = fake.add_volume("p1")
    att = cinder.attachment_create(conf, user(), vol["id"], "srv", connector={"host": "n"},
                                   mode="ro")
    assert fake.seen[-1]["headers"]["OpenStack-API-Version"] == "volume 3.54"
    assert att["attach_mode"] == "ro"
    assert att["connection_info"]["driver_volume_type"] == "iscsi"
    assert att["connection_info"]["data"]["target_lun"] == 1


def test_volume_not_available_is_invalid_volume(fake: FakeCinder,
                                                conf: cfg.ConfigOpts) -> None:
    vol = fake.add_volume("p1")
    cinder.attachment_create(conf, user(), vol["id"], "srv-1")
    with pytest.raises(exception.InvalidVolume) as caught:
        cinder.attachment_create(conf, user(), vol["id"], "srv-2")
    assert caught.value.code == 400
    assert caught.value.message.startswith("Invalid volume: Volume %s status must be "
                                           "available" % vol["id"])
    with pytest.raises(exception.InvalidVolume) as status:
        cinder.check_attachable(cinder.get_volume(conf, user(), vol["id"]))
    assert "Currently in 'reserved'" in status.value.message
    shared = fake.add_volume("p1", multiattach=True)
    cinder.attachment_create(conf, user(), shared["id"], "srv-1")
    cinder.attachment_create(conf, user(), shared["id"], "srv-2")


def test_errors(fake: FakeCinder, conf: cfg.ConfigOpts, tmp_path: pathlib.Path) -> None:
    missing = str(uuid.uuid4())
    with pytest.raises(exception.VolumeNotFound) as no_volume:
        cinder.get_volume(conf, user(), missing)
    assert no_volume.value.code == 404 and missing in no_volume.value.message
    with pytest.raises(exception.VolumeNotFound):
        cinder.attachment_create(conf, user(), missing, "srv")
    with pytest.raises(exception.VolumeAttachmentNotFound):
        cinder.attachment_update(conf, user(), missing, {"host": "n"})
    with pytest.raises(exception.VolumeAttachmentNotFound):
        cinder.attachment_complete(conf, user(), missing)
    stranger = context.RequestContext(auth_token="bad-token", project_id="p1")
    with pytest.raises(exception.VolumeForbidden) as forbidden:
        cinder.get_volume(conf, stranger, missing)
    assert forbidden.value.code == 403
    fake.max_version = (3, 27)
    with pytest.raises(exception.VolumeServiceUnavailable) as old:
        cinder.get_volume(conf, user(), missing)
    assert old.value.code == 503 and "3.44" in old.value.message
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    down = make_conf(tmp_path, "http://127.0.0.1:%d/v3/%s" % (closed, SERVICE_PROJECT))
    with pytest.raises(exception.VolumeServiceUnavailable) as unreachable:
        cinder.get_volume(down, user(), missing)
    assert unreachable.value.code == 503


def test_service_credentials_and_unversioned_endpoint(fake: FakeCinder,
                                                      tmp_path: pathlib.Path) -> None:
    vol = fake.add_volume("p1")
    conf = make_conf(tmp_path, "http://127.0.0.1:%d" % fake.server_address[1])
    try:
        # The static-token plugin knows no project: the project-less URL form.
        assert cinder.get_volume(conf, None, vol["id"])["id"] == vol["id"]
        assert fake.seen[-1]["path"] == "/v3/volumes/" + vol["id"]
        assert fake.seen[-1]["headers"]["X-Auth-Token"] == SERVICE_TOKEN
        cinder.get_volume(conf, user("p2"), vol["id"])
        assert fake.seen[-1]["path"] == "/v3/p2/volumes/" + vol["id"]
    finally:
        base.reset()


def test_connection_info_shapes() -> None:
    assert cinder.connection_info({"id": "a", "connection_info": None}) == {}
    nested = {"driver_volume_type": "rbd", "data": {"name": "v"}}
    assert cinder.connection_info({"id": "a", "connection_info": nested}) == dict(
        nested, attachment_id="a")
