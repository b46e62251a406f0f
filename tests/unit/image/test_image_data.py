"""DataService: status transitions, limits, checksums, formats, ranges (uploads and
downloads; stage/import in test_image_data_import.py)."""
from __future__ import annotations

import hashlib
import os
import struct
from typing import Any, Iterator

import pytest
from oslo_config import cfg

from common import exception as common_exc
from common.wsgi import request as wsgi_request
from image import data as data_mod
from image import exception
from image.api.controllers import image_data
from image.store import filesystem

from tests.unit.image.data_fakes import MIB, OTHER, FakeContext, FakeRegistry, files, qcow2


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
