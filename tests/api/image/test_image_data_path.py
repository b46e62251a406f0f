"""Image data: PUT/GET /v2/images/{id}/file, Range, checksums, format checks,
PUT /stage + POST /import (glance-direct), and that failures leave no data behind."""
from __future__ import annotations

import hashlib
import os
import struct
from typing import Any

import pytest
import webtest
from image_api_helpers import DATA_PATH, Api, check_error, project

pytestmark = pytest.mark.skipif(not DATA_PATH, reason="the image data path is not written "
                                                      "yet")
ADMIN = "admin,member,reader"
DATA = bytes(range(256)) * 64 + b"tail"  # 16388 bytes of raw data
CAP = 64 * 1024
# Read by the ``service`` fixture of conftest.py: this module's own image service.
SERVICE_CONF = {"image": {"image_size_cap": CAP}}


def qcow2_header(virtual_size: int, backing_file: bool = False) -> bytes:
    """The first sector of a qcow2 v3 image (enough for format inspection)."""
    header = b"QFI\xfb" + struct.pack(">IQIIQ", 3, 512 if backing_file else 0,
                                      8 if backing_file else 0, 16, virtual_size)
    return header + b"\0" * (512 - len(header))


def _files(service: Any) -> list[str]:
    """Every file below the store's directory and the staging directory."""
    found = []
    for root in (service.conf.store.filesystem_store_datadir, service.conf.image.staging_dir):
        for dirpath, _dirs, names in os.walk(root):
            found.extend(os.path.join(dirpath, n) for n in names)
    return sorted(found)


def _queued(api: Api, owner: str | None = None, **fields: Any) -> tuple[str, str]:
    owner = owner or project()
    fields.setdefault("disk_format", "raw")
    fields.setdefault("container_format", "bare")
    return owner, api.create(owner, **fields)["id"]


def _download(api: Api, caller: str, image_id: str, roles: str | None = None,
              headers: dict[str, str] | None = None) -> webtest.TestResponse:
    return api.call("GET", "/v2/images/%s/file" % image_id, caller, roles=roles,
                    headers=headers)


# -- upload and download ---------------------------------------------------------------

def test_upload_activates_with_checksums(api: Api) -> None:
    owner, image_id = _queued(api)
    resp = api.upload(owner, image_id, DATA)
    assert resp.body == b""
    image = api.show(owner, image_id)
    assert image["status"] == "active"
    assert image["size"] == len(DATA)
    assert image["checksum"] == hashlib.md5(DATA).hexdigest()
    assert image["os_hash_algo"] == "sha512"
    assert image["os_hash_value"] == hashlib.sha512(DATA).hexdigest()
    assert image["virtual_size"] == len(DATA)  # raw: the virtual size is the size


def test_download_returns_the_bytes(api: Api) -> None:
    owner, image_id = _queued(api)
    api.upload(owner, image_id, DATA)
    resp = _download(api, owner, image_id)
    assert resp.status_int == 200
    assert resp.body == DATA
    assert resp.content_type == "application/octet-stream"
    assert resp.headers["Content-MD5"] == hashlib.md5(DATA).hexdigest()
    assert int(resp.headers["Content-Length"]) == len(DATA)


@pytest.mark.parametrize("header,first,last", [
    ("bytes=0-9", 0, 9), ("bytes=100-199", 100, 199), ("bytes=16000-", 16000, len(DATA) - 1),
    ("bytes=-4", len(DATA) - 4, len(DATA) - 1), ("bytes=16380-99999", 16380, len(DATA) - 1),
])
def test_range_download_is_206(api: Api, header: str, first: int, last: int) -> None:
    owner, image_id = _queued(api)
    api.upload(owner, image_id, DATA)
    resp = _download(api, owner, image_id, headers={"Range": header})
    assert resp.status_int == 206
    assert resp.body == DATA[first:last + 1]
    assert resp.headers["Content-Range"] == "bytes %d-%d/%d" % (first, last, len(DATA))
    assert int(resp.headers["Content-Length"]) == last - first + 1


@pytest.mark.parametrize("header", ["bytes=99999-", "bytes=20-10", "bytes=abc",
                                    "bytes=0-1,5-6"])
def test_unsatisfiable_range_is_416(api: Api, header: str) -> None:
    owner, image_id = _queued(api)
    api.upload(owner, image_id, DATA)
    check_error(_download(api, owner, image_id, headers={"Range": header}), 416)


def test_download_of_queued_image_is_204(api: Api) -> None:
    owner, image_id = _queued(api)
    resp = _download(api, owner, image_id)
    assert resp.status_int == 204 and resp.body == b""


def test_download_visibility(api: Api) -> None:
    owner, private_id = _queued(api, visibility="private")
    api.upload(owner, private_id, DATA)
    check_error(_download(api, project(), private_id), 404)
    public_id = api.active_image(owner, DATA, roles=ADMIN, visibility="public")["id"]
    assert _download(api, project(), public_id).body == DATA
    assert _download(api, project(), private_id, roles=ADMIN).body == DATA


def test_members_download_shared_images(api: Api) -> None:
    owner, image_id = _queued(api, visibility="shared")
    api.upload(owner, image_id, DATA)
    member = project()
    check_error(_download(api, member, image_id), 404)
    api.add_member(owner, image_id, member)
    api.set_member_status(member, image_id, member, "accepted")
    assert _download(api, member, image_id).body == DATA
    assert _download(api, member, image_id, roles="reader").body == DATA
    check_error(_download(api, project(), image_id), 404)


def test_upload_to_active_image_is_409(api: Api) -> None:
    owner, image_id = _queued(api)
    api.upload(owner, image_id, DATA)
    check_error(api.upload(owner, image_id, b"other", status=409), 409)
    assert _download(api, owner, image_id).body == DATA


def test_upload_needs_formats(api: Api) -> None:
    owner = project()
    image_id = api.create(owner)["id"]
    check_error(api.upload(owner, image_id, DATA, status=400), 400)
    assert api.show(owner, image_id)["status"] == "queued"


@pytest.mark.parametrize("ctype", ["application/json", "text/plain", None])
def test_upload_needs_octet_stream(api: Api, ctype: str | None) -> None:
    owner, image_id = _queued(api)
    resp = api.call("PUT", "/v2/images/%s/file" % image_id, owner, body=DATA,
                    content_type=ctype)
    check_error(resp, 415)
    assert api.show(owner, image_id)["status"] == "queued"


def test_upload_by_non_owner(api: Api) -> None:
    owner = project()
    public_id = api.create(owner, roles=ADMIN, visibility="public", disk_format="raw",
                           container_format="bare")["id"]
    check_error(api.upload(project(), public_id, DATA, status=403), 403)
    _owner, private_id = _queued(api, visibility="private")
    check_error(api.upload(project(), private_id, DATA, status=404), 404)
    api.upload(owner, public_id, DATA, roles="reader", status=403)
    assert api.show(owner, public_id)["status"] == "queued"


def test_upload_to_unknown_image_is_404(api: Api) -> None:
    api.upload(project(), "00000000-0000-0000-0000-000000000000", DATA, status=404)


def test_empty_upload(api: Api) -> None:
    owner, image_id = _queued(api)
    api.upload(owner, image_id, b"")
    image = api.show(owner, image_id)
    assert image["status"] == "active" and image["size"] == 0
    assert image["checksum"] == hashlib.md5(b"").hexdigest()


def test_qcow2_upload_reads_virtual_size(api: Api) -> None:
    owner, image_id = _queued(api, disk_format="qcow2")
    data = qcow2_header(10 * 1024 ** 3) + b"\0" * 4096
    api.upload(owner, image_id, data)
    image = api.show(owner, image_id)
    assert image["status"] == "active"
    assert image["size"] == len(data) and image["virtual_size"] == 10 * 1024 ** 3


def test_format_mismatch_is_415_and_image_stays_queued(api: Api, service: Any) -> None:
    before = _files(service)
    owner, image_id = _queued(api, disk_format="qcow2")
    check_error(api.upload(owner, image_id, DATA, status=415), 415)
    image = api.show(owner, image_id)
    assert image["status"] == "queued"
    assert image["size"] is None and image["checksum"] is None
    assert _files(service) == before
    # qcow2 data declared raw is refused the same way.
    other, raw_id = _queued(api, disk_format="raw")
    check_error(api.upload(other, raw_id, qcow2_header(1024) + b"\0" * 512, status=415),
                415)
    assert api.show(other, raw_id)["status"] == "queued"
    # Once the declaration is right, the upload works.
    api.patch(owner, image_id, [{"op": "replace", "path": "/disk_format", "value": "raw"}])
    api.upload(owner, image_id, DATA)
    assert api.show(owner, image_id)["status"] == "active"


def test_unsafe_qcow2_is_refused(api: Api, service: Any) -> None:
    before = _files(service)
    owner, image_id = _queued(api, disk_format="qcow2")
    resp = api.call("PUT", "/v2/images/%s/file" % image_id, owner,
                    body=qcow2_header(1024, backing_file=True) + b"\0" * 512,
                    content_type="application/octet-stream")
    assert 400 <= resp.status_int < 500
    assert api.show(owner, image_id)["status"] == "queued"
    assert _files(service) == before


def test_truncated_upload_leaves_nothing(api: Api, service: Any) -> None:
    before = _files(service)
    owner, image_id = _queued(api)
    req = webtest.TestRequest.blank("/v2/images/%s/file" % image_id, method="PUT",
                                    body=b"abc", headers=dict(api.auth(owner), **{
                                        "Content-Type": "application/octet-stream"}))
    req.environ["CONTENT_LENGTH"] = "1000"  # the client promised more than it sent
    resp = api.app.do_request(req, status=None, expect_errors=True)
    assert resp.status_int == 400, resp.text
    check_error(resp, 400)
    assert api.show(owner, image_id)["status"] == "queued"
    assert _files(service) == before


def _put_unsized(api: Api, owner: str, path: str, data: bytes) -> webtest.TestResponse:
    """A PUT whose body has no Content-Length (as a chunked upload reaches the app)."""
    req = webtest.TestRequest.blank(path, method="PUT", body=data, headers=dict(
        api.auth(owner), **{"Content-Type": "application/octet-stream"}))
    del req.environ["CONTENT_LENGTH"]
    req.environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    req.environ["SERVER_PROTOCOL"] = "HTTP/1.1"
    req.environ["wsgi.input_terminated"] = True  # what cheroot sets for a chunked body
    return api.app.do_request(req, status=None, expect_errors=True)


def test_upload_without_content_length(api: Api) -> None:
    owner, image_id = _queued(api)
    resp = _put_unsized(api, owner, "/v2/images/%s/file" % image_id, DATA)
    assert resp.status_int == 204, resp.text
    image = api.show(owner, image_id)
    assert image["size"] == len(DATA) and image["checksum"] == hashlib.md5(DATA).hexdigest()


def test_upload_over_the_size_cap_is_413(api: Api, service: Any) -> None:
    before = _files(service)
    owner, image_id = _queued(api)
    check_error(api.upload(owner, image_id, b"x" * (CAP + 1), status=413), 413)
    assert api.show(owner, image_id)["status"] == "queued"
    check_error(_put_unsized(api, owner, "/v2/images/%s/file" % image_id,
                             b"x" * (CAP + 1)), 413)
    assert api.show(owner, image_id)["status"] == "queued"
    check_error(api.call("PUT", "/v2/images/%s/stage" % image_id, owner,
                         body=b"x" * (CAP + 1), content_type="application/octet-stream"), 413)
    assert api.show(owner, image_id)["status"] == "queued"
    assert _files(service) == before
    api.upload(owner, image_id, b"x" * CAP)
    assert api.show(owner, image_id)["size"] == CAP


def test_delete_removes_the_data(api: Api, service: Any) -> None:
    owner, image_id = _queued(api)
    before = _files(service)
    api.upload(owner, image_id, DATA)
    added = [f for f in _files(service) if f not in before]
    assert len(added) == 1 and open(added[0], "rb").read() == DATA
    api.delete(owner, image_id)
    assert _files(service) == before
    api.show(owner, image_id, status=404)
    check_error(_download(api, owner, image_id), 404)


def test_uploaded_image_lists_its_store(api: Api) -> None:
    owner, image_id = _queued(api)
    api.upload(owner, image_id, DATA)
    image = api.show(owner, image_id)
    assert image["stores"]


# -- size filters (need data) ---------------------------------------------------------

def test_size_filters(api: Api) -> None:
    owner = project()
    small = api.active_image(owner, b"s" * 100, visibility="private")["id"]
    big = api.active_image(owner, b"b" * 5000, visibility="private")["id"]
    empty = api.create(owner, visibility="private")["id"]
    base = "owner=" + owner

    def ids(query: str) -> set[str]:
        return set(api.list_ids(owner, base + "&" + query))

    assert ids("size_min=100") == {small, big}
    assert ids("size_min=101") == {big}
    assert ids("size_max=100") == {small}
    assert ids("size_max=99") == set()
    assert ids("size_min=50&size_max=5000") == {small, big}
    assert empty not in ids("size_max=100000")
    by_size = api.list_ids(owner, base + "&status=active&sort_key=size&sort_dir=asc")
    assert by_size == [small, big]


# -- deactivate / reactivate (need an active image) -------------------------------------

def test_deactivate_and_reactivate(api: Api) -> None:
    owner = project()
    image_id = api.active_image(owner, DATA)["id"]
    path = "/v2/images/%s/actions/" % image_id
    # Glance lets the owner (a member) deactivate, as Tempest's non-admin test does;
    # another project may not (the image is private: it does not even see it).
    check_error(api.call("POST", path + "deactivate", project()), 404)
    api.call("POST", path + "deactivate", owner, status=204)
    assert api.show(owner, image_id)["status"] == "deactivated"
    # Again: a no-op.
    api.call("POST", path + "deactivate", owner, roles=ADMIN, status=204)
    check_error(_download(api, owner, image_id), 403)
    assert _download(api, owner, image_id, roles=ADMIN).body == DATA
    check_error(api.call("POST", path + "reactivate", project()), 404)
    api.call("POST", path + "reactivate", owner, status=204)
    assert api.show(owner, image_id)["status"] == "active"
    api.call("POST", path + "reactivate", owner, roles=ADMIN, status=204)
    assert _download(api, owner, image_id).body == DATA


def test_deactivated_image_refuses_uploads(api: Api) -> None:
    owner = project()
    image_id = api.active_image(owner, DATA)["id"]
    api.call("POST", "/v2/images/%s/actions/deactivate" % image_id, owner, roles=ADMIN,
             status=204)
    api.upload(owner, image_id, DATA, status=409)


# -- stage + import (glance-direct) -----------------------------------------------------

def _stage(api: Api, owner: str, image_id: str, data: bytes,
           status: int = 204) -> webtest.TestResponse:
    return api.call("PUT", "/v2/images/%s/stage" % image_id, owner, body=data,
                    content_type="application/octet-stream", status=status)


def _import(api: Api, owner: str, image_id: str, body: Any,
            status: int = 202) -> webtest.TestResponse:
    return api.call("POST", "/v2/images/%s/import" % image_id, owner, json_body=body,
                    status=status)


GLANCE_DIRECT = {"method": {"name": "glance-direct"}}


def test_stage_and_import(api: Api, service: Any) -> None:
    before = _files(service)
    owner, image_id = _queued(api)
    _stage(api, owner, image_id, DATA)
    assert api.show(owner, image_id)["status"] == "uploading"
    _import(api, owner, image_id, GLANCE_DIRECT)
    image = api.wait_status(owner, image_id, "active")
    assert image["size"] == len(DATA)
    assert image["checksum"] == hashlib.md5(DATA).hexdigest()
    assert image["os_hash_value"] == hashlib.sha512(DATA).hexdigest()
    assert _download(api, owner, image_id).body == DATA
    # The staged copy is gone; only the stored image remains.
    assert len([f for f in _files(service) if f not in before]) == 1


def test_staged_image_refuses_upload_and_second_stage(api: Api) -> None:
    owner, image_id = _queued(api)
    _stage(api, owner, image_id, DATA)
    check_error(api.upload(owner, image_id, DATA, status=409), 409)
    check_error(_stage(api, owner, image_id, DATA, status=409), 409)
    assert api.show(owner, image_id)["status"] == "uploading"


def test_delete_of_staged_image_removes_staged_data(api: Api, service: Any) -> None:
    owner, image_id = _queued(api)
    before = _files(service)
    _stage(api, owner, image_id, DATA)
    assert len(_files(service)) == len(before) + 1
    api.delete(owner, image_id)
    assert _files(service) == before


def test_import_without_staging_is_409(api: Api) -> None:
    owner, image_id = _queued(api)
    check_error(_import(api, owner, image_id, GLANCE_DIRECT, status=409), 409)


@pytest.mark.parametrize("body", [{}, {"method": {}}, {"method": "glance-direct"},
                                  {"method": {"name": "no-such-method"}}, [], "x"])
def test_import_with_bad_body_is_400(api: Api, body: Any) -> None:
    owner, image_id = _queued(api)
    _stage(api, owner, image_id, DATA)
    check_error(_import(api, owner, image_id, body, status=400), 400)
    assert api.show(owner, image_id)["status"] == "uploading"


def test_stage_to_active_image_is_409(api: Api) -> None:
    owner = project()
    image_id = api.active_image(owner, DATA)["id"]
    check_error(_stage(api, owner, image_id, DATA, status=409), 409)


def test_stage_and_import_by_non_owner(api: Api) -> None:
    _owner, image_id = _queued(api, visibility="private")
    _stage(api, project(), image_id, DATA, status=404)
    _import(api, project(), image_id, GLANCE_DIRECT, status=404)
    owner, image_id = _queued(api, visibility="community")
    _stage(api, project(), image_id, DATA, status=403)
    _stage(api, owner, image_id, DATA)
    _import(api, project(), image_id, GLANCE_DIRECT, status=403)
    assert api.show(owner, image_id)["status"] == "uploading"


def test_import_of_mismatched_format_goes_back_to_queued(api: Api) -> None:
    owner, image_id = _queued(api, disk_format="qcow2")
    _stage(api, owner, image_id, DATA)
    _import(api, owner, image_id, GLANCE_DIRECT)
    image = api.wait_status(owner, image_id, "queued")
    assert image["checksum"] is None and image["size"] is None


def test_list_by_exact_size(api: Api) -> None:
    owner = project()
    image_id = api.active_image(owner, DATA)["id"]
    found = api.call("GET", "/v2/images?size=%d" % len(DATA), owner).json["images"]
    assert image_id in [i["id"] for i in found]
    assert all(i["size"] == len(DATA) for i in found)
    check_error(api.call("GET", "/v2/images?size=big", owner), 400)
