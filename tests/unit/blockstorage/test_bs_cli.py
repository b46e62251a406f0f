"""``stratus volume``: argument parsing, the requests each command sends, waiting, and
errors that say what to do — against a fake HTTP boundary (an in-memory block storage,
compute and image API behind a fake keystoneauth session)."""
from __future__ import annotations

import argparse
import json
import re
import time
import urllib.parse
import uuid
from typing import Any

import pytest

from blockstorage import cli
from common.cli import client

SERVER_ID = "11111111-1111-4111-8111-111111111111"
IMAGE_ID = "22222222-2222-4222-8222-222222222222"
BS = "http://bs.example:8776/v3/proj"


class FakeResponse:
    def __init__(self, status: int, body: Any = None) -> None:
        self.status_code = status
        self.body = body
        self.headers = {"X-OpenStack-Request-ID": "req-fake"}
        self.text = json.dumps(body) if body is not None else ""

    def json(self) -> Any:
        if self.body is None:
            raise ValueError("no body")
        return self.body


class FakeCloud:
    """Just enough of the three APIs; a resource in a transient status settles on the
    ``settle``-th GET of it (deleting ones vanish)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.items: dict[str, dict[str, dict[str, Any]]] = {
            "volumes": {}, "snapshots": {}, "backups": {}}
        self.gets: dict[str, int] = {}
        self.settle = 2
        self.final: dict[str, str] = {}
        self.messages: dict[str, str] = {}
        self.page_size = 1000

    # -- helpers for the tests ------------------------------------------------
    def add(self, plural: str, **fields: Any) -> dict[str, Any]:
        item = {"id": str(uuid.uuid4()), "name": None, "status": "available", "size": 1,
                **fields}
        if plural == "volumes":
            item.setdefault("attachments", [])
        self.items[plural][item["id"]] = item
        return item

    def sent(self, method: str, pattern: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["method"] == method and re.search(pattern, c["url"])]

    # -- the fake boundary ----------------------------------------------------
    def handle(self, service: str, method: str, url: str, kwargs: dict[str, Any]) -> Any:
        self.calls.append({"service": service, "method": method, "url": url,
                           "json": kwargs.get("json"), "params": kwargs.get("params") or {},
                           "headers": kwargs.get("headers") or {}})
        if service == "image":
            return self._image(url, kwargs.get("params") or {})
        if service == "compute":
            return self._compute(method, url, kwargs)
        assert service == cli.SERVICE_TYPE
        path, _, query = url.replace(BS, "").partition("?")
        params = dict(urllib.parse.parse_qsl(query), **(kwargs.get("params") or {}))
        return self._blockstorage(method, path, kwargs.get("json"), params)

    def _image(self, url: str, params: dict[str, str]) -> FakeResponse:
        image = {"id": IMAGE_ID, "name": "tiny"}
        if url.endswith("/v2/images"):
            return FakeResponse(200, {"images": [image] if params.get("name") == "tiny" else []})
        return FakeResponse(200 if url.endswith(IMAGE_ID) else 404, image)

    def _compute(self, method: str, url: str, kwargs: dict[str, Any]) -> FakeResponse:
        server = {"id": SERVER_ID, "name": "vm1"}
        if method == "GET" and url == "/servers":
            wanted = kwargs["params"]["name"]
            return FakeResponse(200, {"servers": [server] if re.match(wanted, "vm1") else []})
        if method == "GET":
            return FakeResponse(200 if url.endswith(SERVER_ID) else 404, {"server": server})
        volume_id = (kwargs.get("json") or {}).get("volumeAttachment", {}).get("volumeId")
        if method == "POST":
            volume = self.items["volumes"][volume_id]
            volume.update(status="attaching")
            self.final[volume_id] = "in-use"
            volume["attachments"] = [{"server_id": SERVER_ID}]
            return FakeResponse(200, {"volumeAttachment": {
                "id": volume_id, "volumeId": volume_id, "serverId": SERVER_ID,
                "device": "/dev/vdb"}})
        found = self.items["volumes"].get(url.rsplit("/", 1)[-1])
        if not found or not found["attachments"]:
            return FakeResponse(404, {"itemNotFound": {"message": "not attached", "code": 404}})
        # As the real API may show it for a moment: no attachment, still in-use.
        found.update(status="in-use", attachments=[])
        self.final[found["id"]] = "available"
        return FakeResponse(202)

    def _blockstorage(self, method: str, path: str, body: Any,
                      params: dict[str, str]) -> FakeResponse:
        parts = path.strip("/").split("/")
        plural = parts[0]
        if plural == "messages":
            msg = self.messages.get(params.get("resource_uuid", ""))
            return FakeResponse(200, {"messages": [{"user_message": msg}] if msg else []})
        store = self.items[plural]
        if method == "GET" and parts[1:] == ["detail"]:
            return self._listing(plural, params)
        if method == "POST" and len(parts) == 1:
            return self._create(plural, body)
        item = store.get(parts[1])
        if item is None:
            return FakeResponse(404, {"itemNotFound": {"message": "not found", "code": 404}})
        if method == "GET":
            return self._get(plural, item)
        if method == "DELETE":
            item["status"] = "deleting"
            return FakeResponse(202)
        if parts[2:] == ["restore"]:
            target = (body["restore"].get("volume_id")
                      or self.add("volumes", name=body["restore"].get("name"))["id"])
            self.items["volumes"][target]["status"] = "restoring-backup"
            return FakeResponse(202, {"restore": {"backup_id": item["id"], "volume_id": target,
                                                  "volume_name": "x"}})
        item.update(status="extending", new_size=body["os-extend"]["new_size"])
        return FakeResponse(202)

    def _listing(self, plural: str, params: dict[str, str]) -> FakeResponse:
        found = [i for i in self.items[plural].values()
                 if "name" not in params or i["name"] == params["name"]]
        offset = int(params.get("offset", 0))
        page = found[offset:offset + self.page_size]
        body: dict[str, Any] = {plural: page}
        if offset + self.page_size < len(found):
            body[plural + "_links"] = [{"rel": "next", "href": "%s/%s/detail?offset=%d" % (
                BS, plural, offset + self.page_size)}]
        return FakeResponse(200, body)

    def _create(self, plural: str, body: dict[str, Any]) -> FakeResponse:
        key = plural[:-1]
        fields = dict(body[key])
        fields.setdefault("size", 1)
        item = self.add(plural, **{**fields, "status": "creating"})
        return FakeResponse(202, {key: item})

    def _get(self, plural: str, item: dict[str, Any]) -> FakeResponse:
        count = self.gets[item["id"]] = self.gets.get(item["id"], 0) + 1
        pending = item["status"] in cli.VOLUME.transient or item["id"] in self.final
        if pending and count >= self.settle:
            if item["status"] == "deleting":
                del self.items[plural][item["id"]]
                return FakeResponse(404, {"itemNotFound": {"message": "gone"}})
            if "new_size" in item:
                item["size"] = item.pop("new_size")
            item["status"] = self.final.pop(item["id"], "available")
            self.gets[item["id"]] = 0
        return FakeResponse(200, {plural[:-1]: dict(item)})


class FakeSession:
    """keystoneauth's Session as ServiceClient calls it."""

    def __init__(self, cloud: FakeCloud) -> None:
        self.cloud = cloud

    def request(self, url: str, method: str, endpoint_filter: dict[str, Any] | None = None,
                raise_exc: bool = True, **kwargs: Any) -> Any:
        assert raise_exc is False
        service = (endpoint_filter or {}).get("service_type", "?")
        return self.cloud.handle(service, method, url, kwargs)


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> FakeCloud:
    fake = FakeCloud()
    monkeypatch.setattr(client, "session_from_env", lambda auth_url: FakeSession(fake))
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    return fake


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.register("stratus volume", list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="stratus volume")
    cli._build(parser)
    return parser.parse_args(list(argv))


# -- parsing ---------------------------------------------------------------------

def test_parse_create_and_nested_groups() -> None:
    args = parse("create", "v1", "--size", "2", "--image", "tiny", "--type", "fast",
                 "--property", "a=b", "--wait", "-f", "json")
    assert (args.name, args.size, args.image, args.type, args.wait, args.format) == \
        ("v1", 2, "tiny", "fast", True, "json")
    assert args.func is cli._create
    snap = parse("snapshot", "create", "v1", "--name", "s1", "--force")
    assert (snap.volume, snap.name, snap.force, snap.wait) == ("v1", "s1", True, False)
    restore = parse("backup", "restore", "b1", "--name", "new", "--wait")
    assert (restore.backup, restore.name, restore.volume, restore.wait) == \
        ("b1", "new", None, True)
    extend = parse("extend", "v1", "5")
    assert (extend.volume, extend.size) == ("v1", 5)
    attach = parse("attach", "vm1", "v1", "--device", "/dev/vdc")
    assert (attach.server, attach.volume, attach.device) == ("vm1", "v1", "/dev/vdc")


def test_parse_rejects_two_sources_and_bad_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse("create", "v", "--size", "1", "--image", "i", "--snapshot", "s")
    with pytest.raises(SystemExit):
        parse("extend", "v1", "big")
    with pytest.raises(SystemExit):
        parse("backup", "restore", "b", "--volume", "v", "--name", "n")
    capsys.readouterr()


# -- volumes ---------------------------------------------------------------------

def test_create_from_image_by_name_waits_and_prints_json(
        cloud: FakeCloud, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "create", "v1", "--size", "1", "--image", "tiny",
                         "--property", "k=v", "--description", "d", "--wait", "-f", "json")
    assert code == 0, err
    post = cloud.sent("POST", r"^/volumes$")[0]
    assert post["json"] == {"volume": {"name": "v1", "size": 1, "description": "d",
                                       "metadata": {"k": "v"}, "imageRef": IMAGE_ID}}
    assert post["headers"]["OpenStack-API-Version"] == "volume 3.0"
    shown = json.loads(out)
    assert shown["status"] == "available" and shown["name"] == "v1"
    assert len(cloud.sent("GET", r"^/volumes/[0-9a-f-]+$")) == 2   # polled until it settled
    assert "volume v1: available" in err


def test_create_needs_a_size_unless_copied(cloud: FakeCloud,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "create", "v1")
    assert code == 1 and "--size GB is needed" in err and not cloud.calls
    code, _, err = run(capsys, "create", "v1", "--size", "0")
    assert code == 1 and "at least 1" in err
    snap = cloud.add("snapshots", name="s1", volume_id="x")
    code, _, err = run(capsys, "create", "v2", "--snapshot", "s1")
    assert code == 0, err
    assert cloud.sent("POST", r"^/volumes$")[0]["json"] == {
        "volume": {"name": "v2", "snapshot_id": snap["id"]}}


def test_create_from_source_volume_and_unknown_names(
        cloud: FakeCloud, capsys: pytest.CaptureFixture[str]) -> None:
    src = cloud.add("volumes", name="src", size=3)
    assert run(capsys, "create", "clone", "--source", "src", "--type", "t1")[0] == 0
    assert cloud.sent("POST", r"^/volumes$")[0]["json"]["volume"] == {
        "name": "clone", "source_volid": src["id"], "volume_type": "t1"}
    code, _, err = run(capsys, "create", "x", "--size", "1", "--image", "nope")
    assert code == 1 and "no image named or with ID 'nope'" in err
    assert "`stratus image list`" in err
    code, _, err = run(capsys, "show", "ghost")
    assert code == 1 and "`stratus volume list` lists them" in err


def test_ambiguous_name_asks_for_an_id(cloud: FakeCloud,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    a = cloud.add("volumes", name="dup")
    b = cloud.add("volumes", name="dup")
    code, _, err = run(capsys, "show", "dup")
    assert code == 1 and "2 volumes are named 'dup': use an ID" in err
    assert a["id"] in err and b["id"] in err
    code, out, _ = run(capsys, "show", a["id"], "-f", "json")
    assert code == 0 and json.loads(out)["id"] == a["id"]


def test_list_follows_pages_and_shows_attachments(
        cloud: FakeCloud, capsys: pytest.CaptureFixture[str]) -> None:
    cloud.page_size = 2
    vols = [cloud.add("volumes", name="v%d" % i) for i in range(5)]
    vols[1]["attachments"] = [{"server_id": SERVER_ID}]
    code, out, _ = run(capsys, "list", "-f", "json")
    rows = json.loads(out)
    assert code == 0 and [r["name"] for r in rows] == ["v0", "v1", "v2", "v3", "v4"]
    assert rows[1]["attached_to"] == SERVER_ID and rows[0]["attached_to"] == ""
    assert len(cloud.sent("GET", r"/volumes/detail")) == 3
    before = len(cloud.calls)
    code, out, _ = run(capsys, "list", "--all-projects")
    assert "| id " in out and "v4" in out
    assert cloud.calls[before]["params"] == {"all_tenants": "1"}


def test_delete_refuses_attached_volume_and_waits_until_gone(
        cloud: FakeCloud, capsys: pytest.CaptureFixture[str]) -> None:
    busy = cloud.add("volumes", name="busy", status="in-use",
                     attachments=[{"server_id": SERVER_ID}])
    code, _, err = run(capsys, "delete", "busy")
    assert code == 1 and "detach it first" in err
    assert "stratus volume detach %s %s" % (SERVER_ID, busy["id"]) in err
    assert not cloud.sent("DELETE", ".")
    free = cloud.add("volumes", name="free")
    code, _, err = run(capsys, "delete", "free", "--wait")
    assert code == 0 and "deleted" in err
    assert cloud.sent("DELETE", r"^/volumes/")[0]["url"] == "/volumes/%s" % free["id"]
    assert free["id"] not in cloud.items["volumes"]


def test_extend_checks_the_size_and_uses_342_when_attached(
        cloud: FakeCloud, capsys: pytest.CaptureFixture[str]) -> None:
    vol = cloud.add("volumes", name="v", size=2)
    code, _, err = run(capsys, "extend", "v", "2")
    assert code == 1 and "must be larger" in err and not cloud.sent("POST", ".")
    code, out, err = run(capsys, "extend", "v", "4", "--wait", "-f", "json")
    assert code == 0, err
    action = cloud.sent("POST", r"/action$")[0]
    assert action["json"] == {"os-extend": {"new_size": 4}}
    assert action["headers"]["OpenStack-API-Version"] == "volume 3.0"
    assert json.loads(out)["size"] == 4
    vol["status"] = "in-use"
    assert run(capsys, "extend", "v", "5")[0] == 0
    assert cloud.sent("POST", r"/action$")[-1]["headers"]["OpenStack-API-Version"] == \
        "volume 3.42"


def test_error_status_reports_the_user_message(cloud: FakeCloud,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    cloud.settle = 1
    real_create = cloud._create

    def failing(plural: str, body: dict[str, Any]) -> FakeResponse:
        resp = real_create(plural, body)
        cloud.final[resp.body["volume"]["id"]] = "error"
        cloud.messages[resp.body["volume"]["id"]] = "No valid backend was found."
        return resp

    cloud._create = failing  # type: ignore[method-assign]
    code, _, err = run(capsys, "create", "bad", "--size", "1", "--wait")
    assert code == 1
    assert "went to error: No valid backend was found." in err
    assert "`stratus volume show " in err and "Traceback" not in err
    msg = cloud.sent("GET", r"^/messages$")[0]
    assert msg["headers"]["OpenStack-API-Version"] == "volume 3.3"


# -- attach and detach through compute ---------------------------------------------

def test_attach_by_server_name_and_detach(cloud: FakeCloud,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    vol = cloud.add("volumes", name="data")
    code, out, err = run(capsys, "attach", "vm1", "data", "--device", "/dev/vdb", "--wait",
                         "-f", "json")
    assert code == 0, err
    post = cloud.sent("POST", "os-volume_attachments")[0]
    assert post["service"] == "compute"
    assert post["url"] == "/servers/%s/os-volume_attachments" % SERVER_ID
    assert post["json"] == {"volumeAttachment": {"volumeId": vol["id"], "device": "/dev/vdb"}}
    assert post["headers"]["X-OpenStack-Nova-API-Version"] == "2.1"
    lookup = [c for c in cloud.calls if c["service"] == "compute" and c["url"] == "/servers"]
    assert lookup[0]["params"] == {"name": "^vm1$"}
    assert json.loads(out)["device"] == "/dev/vdb" and vol["status"] == "in-use"

    polls = len(cloud.sent("GET", r"^/volumes/[0-9a-f-]+$"))
    code, _, err = run(capsys, "detach", "vm1", "data", "--wait")
    assert code == 0, err
    # Polled past the moment with no attachment but still in-use.
    assert len(cloud.sent("GET", r"^/volumes/[0-9a-f-]+$")) - polls == 2
    assert cloud.sent("DELETE", "os-volume_attachments")[0]["url"] == \
        "/servers/%s/os-volume_attachments/%s" % (SERVER_ID, vol["id"])
    assert vol["status"] == "available"
    code, _, err = run(capsys, "detach", "vm1", "data")
    assert code == 1 and "is not attached to server" in err
    code, _, err = run(capsys, "attach", "nosuch", "data")
    assert code == 1 and "`stratus compute list`" in err


# -- snapshots and backups -------------------------------------------------------

def test_snapshot_of_attached_volume_needs_force(cloud: FakeCloud,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    vol = cloud.add("volumes", name="v", status="in-use",
                    attachments=[{"server_id": SERVER_ID}])
    code, _, err = run(capsys, "snapshot", "create", "v", "--name", "s")
    assert code == 1 and "pass --force" in err and not cloud.sent("POST", ".")
    code, out, err = run(capsys, "snapshot", "create", "v", "--name", "s", "--force",
                         "--wait", "-f", "json")
    assert code == 0, err
    assert cloud.sent("POST", r"^/snapshots$")[0]["json"] == {
        "snapshot": {"volume_id": vol["id"], "name": "s", "force": True}}
    snap = json.loads(out)
    assert snap["status"] == "available"
    code, out, _ = run(capsys, "snapshot", "list", "-f", "value")
    assert snap["id"] in out
    code, _, err = run(capsys, "snapshot", "delete", "s", "--wait")
    assert code == 0 and snap["id"] not in cloud.items["snapshots"]


def test_backup_create_incremental_and_restore(cloud: FakeCloud,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    vol = cloud.add("volumes", name="v")
    code, out, err = run(capsys, "backup", "create", "v", "--name", "b", "--incremental",
                         "--wait", "-f", "json")
    assert code == 0, err
    assert cloud.sent("POST", r"^/backups$")[0]["json"] == {
        "backup": {"volume_id": vol["id"], "name": "b", "incremental": True}}
    backup = json.loads(out)
    assert backup["status"] == "available"

    code, out, err = run(capsys, "backup", "restore", "b", "--name", "restored", "--wait",
                         "-f", "json")
    assert code == 0, err
    assert cloud.sent("POST", r"/restore$")[0]["json"] == {"restore": {"name": "restored"}}
    result = json.loads(out)
    assert cloud.items["volumes"][result["volume_id"]]["status"] == "available"

    code, _, err = run(capsys, "backup", "restore", "b", "--volume", "v")
    assert code == 0, err
    assert cloud.sent("POST", r"/restore$")[-1]["json"] == {"restore": {"volume_id": vol["id"]}}
    code, _, err = run(capsys, "backup", "restore", "b", "--volume", "v")
    assert code == 1 and "is restoring-backup" in err


def test_restore_needs_an_available_backup(cloud: FakeCloud,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    cloud.add("backups", name="b", status="error", fail_reason="object store down")
    code, _, err = run(capsys, "backup", "restore", "b")
    assert code == 1 and "only an available backup can be restored" in err


def test_http_errors_carry_the_message_and_request_id(
        monkeypatch: pytest.MonkeyPatch, cloud: FakeCloud,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cloud, "_create", lambda plural, body: FakeResponse(413, {
        "overLimit": {"message": "VolumeSizeExceedsAvailableQuota: gigabytes", "code": 413}}))
    code, _, err = run(capsys, "create", "huge", "--size", "9999")
    assert code == 1
    assert "VolumeSizeExceedsAvailableQuota: gigabytes (HTTP 413, request req-fake)" in err


def test_no_block_storage_in_the_catalog(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from keystoneauth1 import exceptions as ks_exc

    class NoCatalog:
        def request(self, *args: Any, **kwargs: Any) -> Any:
            raise ks_exc.EndpointNotFound()

    monkeypatch.setattr(client, "session_from_env", lambda auth_url: NoCatalog())
    code, _, err = run(capsys, "list")
    assert code == 1 and "no block-storage endpoint" in err and "ENABLED_SERVICES" in err
