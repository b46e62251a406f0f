"""DataService: status transitions, limits, checksums, formats, ranges, stage/import."""
from __future__ import annotations

import copy
import hashlib
import os
import struct
import uuid
from typing import Any, Callable, Iterator

import pytest
from oslo_config import cfg

from common import exception as common_exc
from common.wsgi import request as wsgi_request
from image import data as data_mod
from image import exception
from image import service as image_service
from image.api.controllers import image_data
from image.conf import image as image_opts
from image.store import filesystem

OWNER = "project-a"
OTHER = "project-b"
MIB = 1024 * 1024


class FakeRegistry:
    """The RegistryAPI methods DataService and ImageService use, in memory."""

    def __init__(self) -> None:
        self.images: dict[str, dict[str, Any]] = {}
        self.transitions: list[tuple[str, str]] = []
        self.before_update: Callable[[str, dict[str, Any]], None] | None = None
        self.tasks: dict[str, dict[str, Any]] = {}

    def add(self, **values: Any) -> dict[str, Any]:
        image: dict[str, Any] = dict.fromkeys(
            ("size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value",
             "location"))
        image.update(id=str(uuid.uuid4()), name="img", status="queued", visibility="private",
                     protected=False, os_hidden=False, owner=OWNER, disk_format="raw",
                     container_format="bare", min_disk=0, min_ram=0, properties={}, tags=[])
        image.update(values)
        self.images[image["id"]] = image
        return copy.deepcopy(image)

    def image_get(self, ctxt: Any, image_id: str) -> dict[str, Any]:
        if image_id not in self.images:
            raise exception.ImageNotFound(image_id=image_id)
        return copy.deepcopy(self.images[image_id])

    def image_update(self, ctxt: Any, image_id: str, values: dict[str, Any],
                     from_status: list[str] | None = None) -> dict[str, Any]:
        if self.before_update is not None:
            self.before_update(image_id, values)
        self.image_get(ctxt, image_id)  # ImageNotFound
        image = self.images[image_id]
        if from_status is not None and image["status"] not in from_status:
            raise exception.InvalidImageStatusTransition(
                current=image["status"], new=values.get("status", image["status"]))
        if "status" in values and values["status"] != image["status"]:
            self.transitions.append((image["status"], values["status"]))
        image.update(values)
        return copy.deepcopy(image)

    def image_delete(self, ctxt: Any, image_id: str) -> dict[str, Any]:
        return self.images.pop(image_id)

    def member_get(self, ctxt: Any, image_id: str, member: str) -> dict[str, Any]:
        raise exception.MemberNotFound(member=member, image_id=image_id)

    def task_create(self, ctxt: Any, values: dict[str, Any]) -> dict[str, Any]:
        self.image_get(ctxt, values["image_id"])  # ImageNotFound
        task = dict(values, id=str(uuid.uuid4()), status="pending", message="",
                    result=None, statuses=["pending"])
        self.tasks[task["id"]] = task
        return copy.deepcopy(task)

    def task_update(self, ctxt: Any, task_id: str, values: dict[str, Any],
                    from_status: list[str] | None = None) -> dict[str, Any]:
        task = self.tasks[task_id]
        if from_status is not None and task["status"] not in from_status:
            raise exception.InvalidTaskStatusTransition(current=task["status"],
                                                        new=values.get("status"))
        task.update(values)
        if "status" in values:
            task["statuses"].append(values["status"])
        return copy.deepcopy(task)

    def task_of(self, image_id: str) -> dict[str, Any]:
        (task,) = [t for t in self.tasks.values() if t["image_id"] == image_id]
        return task

    def project_usage(self, ctxt: Any, owner: str) -> dict[str, int]:
        mine = [i for i in self.images.values() if i["owner"] == owner]
        return {"count": len(mine), "size": sum(i["size"] or 0 for i in mine)}


class FakeContext:
    def __init__(self, project_id: str = OWNER, is_admin: bool = False,
                 denied: tuple[str, ...] = ()) -> None:
        self.project_id, self.is_admin, self.denied = project_id, is_admin, denied
        self.request_id, self.user_id = "req-" + project_id, "user-" + project_id

    def can(self, action: str, target: dict[str, Any] | None = None,
            fatal: bool = True) -> bool:
        if action in self.denied:
            raise common_exc.PolicyNotAuthorized(action=action)
        return True

    def update_store(self) -> None:  # oslo.context: this thread's logging context
        pass


@pytest.fixture
def conf(tmp_path: os.PathLike[str]) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    image_opts.register_opts(conf)
    conf([], project="stratus-test", default_config_files=[])
    conf.set_override("filesystem_store_datadir", os.path.join(str(tmp_path), "data"),
                      group="store")
    conf.set_override("staging_dir", os.path.join(str(tmp_path), "staging"), group="image")
    return conf


@pytest.fixture
def notes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(data_mod.image_service, "notify", lambda ctxt, event, payload:
                        sent.append((event, payload)))
    return sent


@pytest.fixture
def registry() -> FakeRegistry:
    return FakeRegistry()


@pytest.fixture
def svc(conf: cfg.ConfigOpts, registry: FakeRegistry,
        notes: list[Any]) -> Iterator[data_mod.DataService]:
    store = filesystem.FilesystemStore(lambda: conf.store.filesystem_store_datadir)
    images = image_service.ImageService(conf, registry, store)  # type: ignore[arg-type]
    service = data_mod.DataService(conf, registry, store, images)
    yield service
    service.close()


def files(conf: cfg.ConfigOpts) -> list[str]:
    """Every file under the store and the staging area (temporary ones included)."""
    return sorted(os.path.join(path, n) for root in (conf.store.filesystem_store_datadir,
                                                    conf.image.staging_dir)
                  for path, _dirs, names in os.walk(root) for n in names)


def qcow2(size: int = 1 << 30, backing: int = 0) -> bytes:
    head = b"QFI\xfb" + struct.pack(">IQIIQ", 3, backing, 0, 16, size)
    return head.ljust(64 * 1024, b"\0")


def test_upload_activates_with_checksums(svc: data_mod.DataService, registry: FakeRegistry,
                                         conf: cfg.ConfigOpts, notes: list[Any]) -> None:
    image = registry.add()
    body = os.urandom(3 * MIB + 123)
    chunks = [body[i:i + MIB] for i in range(0, len(body), MIB)]
    result = svc.upload(FakeContext(), image["id"], chunks, len(body))
    stored = registry.images[image["id"]]
    assert result["status"] == stored["status"] == "active"
    assert stored["size"] == stored["virtual_size"] == len(body)
    assert stored["checksum"] == hashlib.md5(body).hexdigest()
    assert stored["os_hash_algo"] == "sha512"
    assert stored["os_hash_value"] == hashlib.sha512(body).hexdigest()
    assert registry.transitions == [("queued", "saving"), ("saving", "active")]
    assert files(conf) == [stored["location"][len("file://"):]]
    assert [event for event, _ in notes] == ["image.upload", "image.activate"]


@pytest.mark.parametrize("chunks,length", [([b"abc", b"", b"def"], None),
                                           ([b"abcdef"], 6), ([], 0), ([], None)])
def test_chunked_sized_and_empty_uploads(svc: data_mod.DataService, registry: FakeRegistry,
                                         chunks: list[bytes], length: int | None) -> None:
    image = registry.add()
    svc.upload(FakeContext(), image["id"], iter(chunks), length)
    stored = registry.images[image["id"]]
    assert stored["status"] == "active"
    assert stored["size"] == len(b"".join(chunks))
    assert stored["checksum"] == hashlib.md5(b"".join(chunks)).hexdigest()


@pytest.mark.parametrize("status", ["active", "saving", "uploading", "importing",
                                    "deactivated"])
def test_upload_needs_queued(svc: data_mod.DataService, registry: FakeRegistry,
                             status: str) -> None:
    image = registry.add(status=status)
    with pytest.raises(common_exc.Conflict):
        svc.upload(FakeContext(), image["id"], [b"x"], 1)
    assert registry.images[image["id"]]["status"] == status


def test_upload_refusals(svc: data_mod.DataService, registry: FakeRegistry) -> None:
    with pytest.raises(common_exc.Invalid):
        svc.upload(FakeContext(), registry.add(disk_format=None)["id"], [b"x"], 1)
    public = registry.add(visibility="public")
    private = registry.add()
    with pytest.raises(common_exc.Forbidden):
        svc.upload(FakeContext(OTHER), public["id"], [b"x"], 1)
    with pytest.raises(exception.ImageNotFound):
        svc.upload(FakeContext(OTHER), private["id"], [b"x"], 1)
    denied = FakeContext(denied=("image:upload_image",))
    with pytest.raises(common_exc.PolicyNotAuthorized):
        svc.upload(denied, private["id"], [b"x"], 1)
    assert registry.transitions == []


def _untouched() -> Iterator[bytes]:
    raise AssertionError("the body must not be read")
    yield b""


def test_size_cap_and_truncation(svc: data_mod.DataService, registry: FakeRegistry,
                                 conf: cfg.ConfigOpts) -> None:
    conf.set_override("image_size_cap", 10, group="image")
    image = registry.add()
    with pytest.raises(exception.ImageSizeLimitExceeded) as caught:
        svc.upload(FakeContext(), image["id"], _untouched(), 11)  # refused before reading
    assert caught.value.code == 413
    with pytest.raises(exception.ImageSizeLimitExceeded):
        svc.upload(FakeContext(), image["id"], [b"123456", b"789012"], None)
    with pytest.raises(common_exc.Invalid, match="truncated"):
        svc.upload(FakeContext(), image["id"], [b"x" * 5], 8)
    assert registry.images[image["id"]]["status"] == "queued"
    assert files(conf) == []


def test_quota(svc: data_mod.DataService, registry: FakeRegistry,
               conf: cfg.ConfigOpts) -> None:
    conf.set_override("image_size_total", 1, group="quota")
    registry.add(status="active", size=MIB - 10)
    image = registry.add()
    with pytest.raises(exception.QuotaExceeded):
        svc.upload(FakeContext(), image["id"], _untouched(), 11)
    with pytest.raises(exception.QuotaExceeded):
        svc.upload(FakeContext(), image["id"], [b"12345", b"678901"], None)
    assert registry.images[image["id"]]["status"] == "queued"
    assert files(conf) == []
    svc.upload(FakeContext(), image["id"], [b"1234567890"], None)
    assert registry.images[image["id"]]["status"] == "active"


def test_format_mismatch(svc: data_mod.DataService, registry: FakeRegistry,
                         conf: cfg.ConfigOpts) -> None:
    image = registry.add(disk_format="qcow2")
    with pytest.raises(exception.FormatMismatch) as caught:
        svc.upload(FakeContext(), image["id"], [b"plain bytes"], None)
    assert caught.value.code == 415
    raw = registry.add(disk_format="raw")

    def body() -> Iterator[bytes]:
        yield qcow2()
        raise AssertionError("read past the header")  # refused as soon as it is in

    with pytest.raises(exception.FormatMismatch):
        svc.upload(FakeContext(), raw["id"], body(), None)
    for img in (image, raw):
        assert registry.images[img["id"]]["status"] == "queued"
    assert files(conf) == []


def test_virtual_sizes_and_safety(svc: data_mod.DataService, registry: FakeRegistry,
                                   conf: cfg.ConfigOpts) -> None:
    image = registry.add(disk_format="qcow2")
    svc.upload(FakeContext(), image["id"], [qcow2(2 << 30), b"more"], None)
    assert registry.images[image["id"]]["virtual_size"] == 2 << 30
    unsafe = registry.add(disk_format="qcow2")
    with pytest.raises(common_exc.Invalid):
        svc.upload(FakeContext(), unsafe["id"], [qcow2(backing=512)], None)
    assert registry.images[unsafe["id"]]["status"] == "queued"
    footer = bytearray(512)  # a fixed VHD: raw data, then its footer
    footer[:8] = b"conectix"
    footer[48:56] = struct.pack(">Q", 100 * 1024)
    vhd = registry.add(disk_format="vhd")
    svc.upload(FakeContext(), vhd["id"], [b"\1" * 100 * 1024, bytes(footer)], None)
    assert registry.images[vhd["id"]]["virtual_size"] == 100 * 1024
    conf.set_override("require_image_format_match", False, group="image")
    raw = registry.add(disk_format="raw")
    svc.upload(FakeContext(), raw["id"], [qcow2(5 << 30)], None)
    assert registry.images[raw["id"]]["virtual_size"] == 5 << 30


def test_deleted_during_upload_or_registry_down(svc: data_mod.DataService,
                                                registry: FakeRegistry,
                                                conf: cfg.ConfigOpts) -> None:
    image = registry.add()

    def body() -> Iterator[bytes]:
        yield b"abc"
        registry.image_delete(None, image["id"])
        yield b"def"

    with pytest.raises(common_exc.Gone):
        svc.upload(FakeContext(), image["id"], body(), None)
    image = registry.add()

    def fail(image_id: str, values: dict[str, Any]) -> None:
        if values.get("status") == "active":
            raise common_exc.ServiceUnavailable(reason="registry down")

    registry.before_update = fail
    with pytest.raises(common_exc.ServiceUnavailable):
        svc.upload(FakeContext(), image["id"], [b"abc"], 3)
    assert registry.images[image["id"]]["status"] == "queued"
    assert files(conf) == []


def test_commit_failure_undoes_the_record(svc: data_mod.DataService, registry: FakeRegistry,
                                          conf: cfg.ConfigOpts,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    image = registry.add()

    def broken(self: filesystem.FileStaged) -> None:
        raise OSError("rename failed")

    monkeypatch.setattr(filesystem.FileStaged, "commit", broken)
    with pytest.raises(OSError):
        svc.upload(FakeContext(), image["id"], [b"abc"], 3)
    stored = registry.images[image["id"]]
    assert stored["status"] == "queued"
    assert stored["location"] is None and stored["checksum"] is None
    assert files(conf) == []


def _active(svc: data_mod.DataService, registry: FakeRegistry, body: bytes,
            **values: Any) -> dict[str, Any]:
    image = registry.add(**values)
    svc.upload(FakeContext(), image["id"], [body], len(body))
    return registry.image_get(None, image["id"])


def test_download(svc: data_mod.DataService, registry: FakeRegistry) -> None:
    image = _active(svc, registry, b"0123456789")
    status, headers, body = svc.download(FakeContext(), image["id"], None)
    assert (status, b"".join(body)) == (200, b"0123456789")
    assert headers == {"Content-Type": "application/octet-stream", "Content-Length": "10",
                       "Content-MD5": hashlib.md5(b"0123456789").hexdigest()}
    status, headers, body = svc.download(FakeContext(), image["id"], "bytes=2-5")
    assert (status, b"".join(body)) == (206, b"2345")
    assert headers["Content-Range"] == "bytes 2-5/10"
    assert headers["Content-Length"] == "4"
    with pytest.raises(data_mod.RangeNotSatisfiable):
        svc.download(FakeContext(), image["id"], "bytes=10-")


@pytest.mark.parametrize("header,first,last", [
    ("bytes=2-5", 2, 5), ("bytes=5-", 5, 9), ("bytes=-3", 7, 9), ("bytes=-100", 0, 9),
    ("bytes=8-100", 8, 9), ("bytes=0-0", 0, 0), ("Bytes = 1 - 2", 1, 2),
])
def test_parse_range(header: str, first: int, last: int) -> None:
    assert data_mod.parse_range(header, 10) == (first, last)


@pytest.mark.parametrize("header,size", [
    ("bytes=10-", 10), ("bytes=12-15", 10), ("bytes=5-2", 10), ("bytes=-0", 10),
    ("bytes=0-1,3-4", 10), ("items=0-1", 10), ("bytes=-", 10), ("garbage", 10),
    ("bytes=-5", 0), ("bytes=0-", 0),
])
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(data_mod.RangeNotSatisfiable) as caught:
        data_mod.parse_range(header, size)
    assert caught.value.code == 416
    assert caught.value.headers == {"Content-Range": "bytes */%d" % size}


def test_download_refusals_and_missing_data(svc: data_mod.DataService,
                                            registry: FakeRegistry) -> None:
    assert svc.download(FakeContext(), registry.add()["id"], None) == (204, {}, [])
    lost = _active(svc, registry, b"abc")
    os.unlink(lost["location"][len("file://"):])
    assert svc.download(FakeContext(), lost["id"], None)[0] == 204
    private = _active(svc, registry, b"abc")
    public = _active(svc, registry, b"abc", visibility="public")
    with pytest.raises(exception.ImageNotFound):
        svc.download(FakeContext(OTHER), private["id"], None)
    assert svc.download(FakeContext(OTHER), public["id"], None)[0] == 200
    with pytest.raises(common_exc.PolicyNotAuthorized):
        svc.download(FakeContext(denied=("image:download_image",)), public["id"], None)
    registry.images[private["id"]]["status"] = "deactivated"
    with pytest.raises(common_exc.Forbidden):
        svc.download(FakeContext(), private["id"], None)
    status, _headers, body = svc.download(FakeContext(is_admin=True), private["id"], None)
    assert status == 200 and b"".join(body) == b"abc"


def test_heartbeat_and_reset_during_upload(svc: data_mod.DataService,
                                           registry: FakeRegistry, conf: cfg.ConfigOpts,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data_mod, "HEARTBEAT_SECONDS", 0)
    touched: list[dict[str, Any]] = []
    registry.before_update = lambda image_id, values: touched.append(values)
    image = registry.add()
    svc.upload(FakeContext(), image["id"], [b"a", b"b", b"c"], 3)
    assert touched.count({}) == 3  # one touch per chunk (refreshes updated_at)
    image = registry.add()

    def body() -> Iterator[bytes]:
        yield b"abc"
        registry.images[image["id"]]["status"] = "queued"  # the registry's reset
        yield b"def"

    with pytest.raises(exception.InvalidImageStatusTransition):
        svc.upload(FakeContext(), image["id"], body(), None)
    assert registry.images[image["id"]]["status"] == "queued"
    assert len(files(conf)) == 1  # the first image's


def test_request_body(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image_data, "READ_SIZE", 4)
    body = image_data.RequestBody(wsgi_request.Request.blank("/", body=b"0123456789"))
    assert next(iter(body)) == b"0123"
    body.discard(100)  # the rest is read and dropped, not buffered by cheroot
    assert body.remaining == 0 and list(body) == []
    req = wsgi_request.Request.blank("/", body=b"0123")
    req.content_length = 10  # the client went away
    assert b"".join(image_data.RequestBody(req)) == b"0123"


def test_stage_then_import(svc: data_mod.DataService, registry: FakeRegistry,
                           conf: cfg.ConfigOpts, notes: list[Any]) -> None:
    image = registry.add()
    body = os.urandom(MIB + 7)
    svc.stage(FakeContext(), image["id"], [body[:MIB], body[MIB:]], len(body))
    stored = registry.images[image["id"]]
    assert stored["status"] == "uploading"
    assert stored["checksum"] is None
    staged = os.path.join(conf.image.staging_dir, image["id"])
    with open(staged, "rb") as handle:
        assert handle.read() == body
    svc.import_(FakeContext(), image["id"], {"method": {"name": "glance-direct"}})
    svc.close()  # waits for the background import
    assert stored["status"] == "active"
    assert stored["checksum"] == hashlib.md5(body).hexdigest()
    assert stored["os_hash_value"] == hashlib.sha512(body).hexdigest()
    assert stored["size"] == stored["virtual_size"] == len(body)
    assert registry.transitions == [("queued", "uploading"), ("uploading", "importing"),
                                    ("importing", "active")]
    assert files(conf) == [stored["location"][len("file://"):]]
    assert [event for event, _ in notes] == ["image.upload", "image.activate"]
    task = registry.task_of(image["id"])
    assert task["statuses"] == ["pending", "processing", "success"]
    assert task["type"] == "api_image_import" and task["owner"] == OWNER
    assert (task["request_id"], task["user_id"]) == ("req-" + OWNER, "user-" + OWNER)
    assert task["input"]["import_req"] == {"method": {"name": "glance-direct"}}
    assert task["result"] == {"image_id": image["id"]}


def test_import_task_shows_progress_and_a_bad_registry_does_not_stop_it(
        svc: data_mod.DataService, registry: FakeRegistry,
        monkeypatch: pytest.MonkeyPatch) -> None:
    image = registry.add()
    body = os.urandom(3 * MIB)
    svc.stage(FakeContext(), image["id"], [body], len(body))
    monkeypatch.setattr(data_mod, "HEARTBEAT_SECONDS", 0)
    messages: list[str] = []
    real_update = registry.task_update

    def update(ctxt: Any, task_id: str, values: dict[str, Any],
               from_status: list[str] | None = None) -> dict[str, Any]:
        if "message" in values:
            messages.append(values["message"])
        return real_update(ctxt, task_id, values, from_status)

    monkeypatch.setattr(registry, "task_update", update)
    svc.import_(FakeContext(), image["id"], {"method": {"name": "glance-direct"}})
    svc.close()
    assert messages and messages[-1].startswith("Copied ") and messages[-1].endswith(" MiB")
    assert registry.task_of(image["id"])["status"] == "success"
    # A registry that keeps no tasks (an older one): the import still happens.
    other = registry.add()
    svc2 = data_mod.DataService(svc.conf, registry, svc.store, svc.images)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("UnsupportedVersion 1.1")

    monkeypatch.setattr(registry, "task_create", refuse)
    svc2.stage(FakeContext(), other["id"], [b"abc"], 3)
    svc2.import_(FakeContext(), other["id"], {"method": {"name": "glance-direct"}})
    svc2.close()
    assert registry.images[other["id"]]["status"] == "active"


def test_stage_and_import_refusals(svc: data_mod.DataService, registry: FakeRegistry,
                                   conf: cfg.ConfigOpts) -> None:
    image = registry.add()
    with pytest.raises(common_exc.Invalid):  # truncated
        svc.stage(FakeContext(), image["id"], [b"abc"], 10)
    assert files(conf) == []
    glance_direct = {"method": {"name": "glance-direct"}}
    with pytest.raises(common_exc.Conflict):
        svc.import_(FakeContext(), image["id"], glance_direct)
    svc.stage(FakeContext(), image["id"], [b"abc"], 3)
    with pytest.raises(common_exc.Invalid):
        svc.import_(FakeContext(), image["id"], {"method": {"name": "web-download"}})
    bodies: list[Any] = [{}, [], {"method": "glance-direct"}, {"method": {"name": 3}}]
    for body in bodies:
        with pytest.raises(common_exc.ValidationError):
            svc.import_(FakeContext(), image["id"], body)
    with pytest.raises(common_exc.Forbidden):
        registry.images[image["id"]]["visibility"] = "public"
        svc.import_(FakeContext(OTHER), image["id"], glance_direct)
    assert registry.images[image["id"]]["status"] == "uploading"
    with pytest.raises(common_exc.Conflict):
        svc.stage(FakeContext(), image["id"], [b"abc"], 3)
    os.unlink(os.path.join(svc.conf.image.staging_dir, image["id"]))
    with pytest.raises(common_exc.Conflict):  # the staged data is gone
        svc.import_(FakeContext(), image["id"], glance_direct)
    assert registry.images[image["id"]]["status"] == "queued"


def test_import_failure_goes_back_to_queued(svc: data_mod.DataService,
                                            registry: FakeRegistry,
                                            conf: cfg.ConfigOpts) -> None:
    image = registry.add(disk_format="qcow2")
    svc.stage(FakeContext(), image["id"], [b"not a qcow2"], None)
    svc.import_(FakeContext(), image["id"], {"method": {"name": "glance-direct"}})
    svc.close()
    assert registry.images[image["id"]]["status"] == "queued"
    assert files(conf) == []
    task = registry.task_of(image["id"])
    assert task["statuses"] == ["pending", "processing", "failure"]
    assert task["message"].startswith("The import failed: Image data does not match")
    assert task["result"] is None


def test_import_task_hides_internal_errors(svc: data_mod.DataService,
                                           registry: FakeRegistry,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    image = registry.add()
    svc.stage(FakeContext(), image["id"], [b"abc"], None)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("/secret/path: disk on fire")

    monkeypatch.setattr(svc.store, "add", broken)
    svc.import_(FakeContext(), image["id"], {"method": {"name": "glance-direct"}})
    svc.close()
    task = registry.task_of(image["id"])
    assert task["status"] == "failure"
    assert task["message"] == ("The import failed: an internal error occurred (request "
                               "req-%s)" % OWNER)


def test_import_that_cannot_start_fails_its_task(svc: data_mod.DataService,
                                                 registry: FakeRegistry) -> None:
    image = registry.add()
    svc.stage(FakeContext(), image["id"], [b"abc"], None)

    def racing(image_id: str, values: dict[str, Any]) -> None:
        registry.images[image_id]["status"] = "queued"  # another request won

    registry.before_update = racing
    with pytest.raises(exception.InvalidImageStatusTransition):
        svc.import_(FakeContext(), image["id"], {"method": {"name": "glance-direct"}})
    task = registry.task_of(image["id"])
    assert task["statuses"] == ["pending", "failure"]
    assert task["message"].startswith("The import could not start: Image status "
                                      "transition from queued")


def test_import_reset_while_waiting_keeps_staged_data(svc: data_mod.DataService,
                                                      registry: FakeRegistry,
                                                      conf: cfg.ConfigOpts,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    jobs: list[Any] = []
    monkeypatch.setattr(svc._jobs, "submit", lambda fn, *args: jobs.append((fn, args)))
    image = registry.add()
    svc.stage(FakeContext(), image["id"], [b"abc"], None)
    svc.import_(FakeContext(), image["id"], {"method": {"name": "glance-direct"}})
    registry.images[image["id"]]["status"] = "uploading"  # the registry's reset
    jobs[0][0](*jobs[0][1])
    assert registry.images[image["id"]]["status"] == "uploading"
    task = registry.task_of(image["id"])
    assert task["statuses"] == ["pending", "failure"]
    assert "staged data is kept" in task["message"]
    assert files(conf) == [os.path.join(conf.image.staging_dir, image["id"])]


def test_reset_stuck_and_cleanup(svc: data_mod.DataService, registry: FakeRegistry,
                     conf: cfg.ConfigOpts) -> None:
    saving = registry.add(status="saving")
    importing, lost = registry.add(), registry.add(status="importing")
    svc.stage(FakeContext(), importing["id"], [b"abc"], None)
    registry.images[importing["id"]]["status"] = "importing"
    active = registry.add(status="active")
    ids = [saving["id"], importing["id"], lost["id"], active["id"], str(uuid.uuid4())]
    assert svc.reset_stuck(FakeContext(is_admin=True), ids) == ids[:3]
    assert [registry.images[i]["status"] for i in ids[:4]] == [
        "queued", "uploading", "queued", "active"]
    assert files(conf) == [os.path.join(conf.image.staging_dir, importing["id"])]
    svc.delete_staged(importing["id"])
    svc.delete_staged(importing["id"])
    for root in (conf.store.filesystem_store_datadir, conf.image.staging_dir):
        os.makedirs(os.path.join(root, filesystem.TMP_DIR), exist_ok=True)
        with open(os.path.join(root, filesystem.TMP_DIR, "x~%s~999999999~a.part"
                               % filesystem.socket.gethostname()), "wb") as handle:
            handle.write(b"orphan of a dead process")
    svc.cleanup(FakeContext(is_admin=True))
    assert files(conf) == []
