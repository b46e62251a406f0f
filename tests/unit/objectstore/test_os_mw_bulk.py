"""Bulk delete and extract archive, with auth below them as in the real pipeline."""
from __future__ import annotations

import io
import json
import tarfile

import pytest
import webob

from objectstore.common import registry
from objectstore.middleware import bulk, keystoneauth
from tests.unit.objectstore.os_mw_fakes import FakeSwift

OWNER = {"X-Identity-Status": "Confirmed", "X-Project-Id": "p1", "X-User-Id": "u1",
         "X-Roles": "member"}
STRANGER = {"X-Identity-Status": "Confirmed", "X-Project-Id": "p2", "X-User-Id": "u2",
            "X-Roles": "member"}


@pytest.fixture
def swift():
    fake = FakeSwift()
    fake.add_account("AUTH_p1")
    fake.add_object("AUTH_p1", "c", "a")
    fake.add_object("AUTH_p1", "c", "b/")
    fake.add_object("AUTH_p1", "c", "sp ace")
    fake.add_object("AUTH_p1", "full", "keep")
    fake.add_container("AUTH_p1", "empty")
    return fake


def make(swift, **conf):
    return bulk.filter_factory({}, **conf)(keystoneauth.filter_factory({})(swift))


def delete(app, body, headers=None, path="/v1/AUTH_p1", method="POST"):
    req = webob.Request.blank(path + "?bulk-delete", method=method,
                              headers=dict(OWNER, **(headers or {})))
    req.body = body.encode()
    return req.get_response(app)


def test_delete_objects_then_their_container(swift):
    app = make(swift)
    body = "/c\n/c/a\nc/b/\n/c/sp%20ace\n/c/missing\n"
    resp = delete(app, body, {"Accept": "application/json"})
    assert resp.status_int == 200 and resp.content_type == "application/json"
    result = json.loads(resp.body)
    assert result == {"Number Deleted": 4, "Number Not Found": 1,
                      "Response Status": "200 OK", "Response Body": "", "Errors": []}
    assert ("AUTH_p1", "c") not in swift.containers and not any(
        k[1] == "c" for k in swift.objects)
    deletes = [c for c in swift.calls if c.method == "DELETE"]
    assert [c.path for c in deletes][-1] == "/v1/AUTH_p1/c"     # the container last
    assert {c.source for c in deletes} == {"BD"}


def test_plain_text_and_errors(swift):
    app = make(swift)
    resp = delete(app, "/full\n/empty\n")
    assert resp.content_type == "text/plain"
    assert resp.text == ("Number Deleted: 1\nNumber Not Found: 0\nResponse Body: \n"
                         "Response Status: 400 Bad Request\nErrors:\n/full, 409 Conflict\n")


def test_delete_method_and_xml(swift):
    app = make(swift)
    resp = delete(app, "/empty\n", {"Accept": "application/xml"}, method="DELETE")
    assert resp.content_type == "application/xml"
    assert b"<number_deleted>1</number_deleted>" in resp.body
    assert b"<response_status>200 OK</response_status>" in resp.body


def test_each_delete_is_authorized(swift):
    app = make(swift)
    resp = delete(app, "/c/a\n/empty\n", dict(STRANGER, Accept="application/json"))
    result = json.loads(resp.body)
    assert result["Number Deleted"] == 0
    assert result["Response Status"] == "400 Bad Request"
    assert result["Errors"] == [["/c/a", "403 Forbidden"], ["/empty", "403 Forbidden"]]
    assert ("AUTH_p1", "c", "a") in swift.objects
    # a write ACL lets the stranger delete objects in that container
    swift.containers[("AUTH_p1", "c")]["X-Container-Write"] = "p2:*"
    result = json.loads(delete(app, "/c/a\n", dict(STRANGER, Accept="application/json")
                               ).body)
    assert result["Number Deleted"] == 1


def test_too_many_deletes(swift):
    app = make(swift, max_deletes_per_request="2")
    result = json.loads(delete(app, "/c/a\n/c/b/\n/c/sp%20ace\n",
                               {"Accept": "application/json"}).body)
    assert result["Response Status"] == "413 Request Entity Too Large"
    assert result["Number Deleted"] == 0
    assert len(swift.objects) == 4


def test_empty_body_is_invalid(swift):
    result = json.loads(delete(make(swift), "\n\n", {"Accept": "application/json"}).body)
    assert result["Response Status"] == "400 Bad Request"
    assert result["Response Body"] == "Invalid bulk delete."


def test_not_acceptable(swift):
    assert delete(make(swift), "/c/a\n", {"Accept": "image/png"}).status_int == 406


def test_other_requests_pass(swift):
    app = make(swift)
    resp = webob.Request.blank("/v1/AUTH_p1/c/a", headers=OWNER).get_response(app)
    assert resp.status_int == 200


# --- extract archive ------------------------------------------------------------------

def tarball(files, compression=""):
    data = io.BytesIO()
    with tarfile.open(mode="w:" + compression, fileobj=data,
                      format=tarfile.PAX_FORMAT) as tar:
        for name, body, pax in files:
            member = tarfile.TarInfo(name)
            member.size = len(body)
            member.pax_headers = pax
            tar.addfile(member, io.BytesIO(body))
        directory = tarfile.TarInfo("somedir")
        directory.type = tarfile.DIRTYPE
        tar.addfile(directory)  # not a file: skipped
    return data.getvalue()


def extract(app, path, body, fmt="tar", headers=None):
    req = webob.Request.blank(path + "?extract-archive=" + fmt, method="PUT",
                              headers=dict(OWNER, Accept="application/json",
                                           **(headers or {})))
    req.body = body
    return req.get_response(app)


@pytest.mark.parametrize("fmt, compression", [("tar", ""), ("tar.gz", "gz"),
                                              ("tar.bz2", "bz2")])
def test_extract_into_account(swift, fmt, compression):
    app = make(swift)
    body = tarball([("new1/x.txt", b"x", {}),
                    ("./new1/y.txt", b"yy", {"SCHILY.xattr.user.meta.color": "blue",
                                             "SCHILY.xattr.user.mime_type": "text/plain"}),
                    ("c/z", b"zzz", {})], compression)
    resp = extract(app, "/v1/AUTH_p1", body, fmt)
    result = json.loads(resp.body)
    assert result == {"Number Files Created": 3, "Response Status": "201 Created",
                      "Response Body": "", "Errors": []}
    assert swift.objects[("AUTH_p1", "new1", "x.txt")][0] == b"x"
    data, headers = swift.objects[("AUTH_p1", "new1", "y.txt")]
    assert data == b"yy" and headers["X-Object-Meta-Color"] == "blue"
    assert headers["Content-Type"] == "text/plain"
    assert swift.objects[("AUTH_p1", "c", "z")][0] == b"zzz"
    puts = [c.path for c in swift.calls if c.method == "PUT"]
    assert puts.count("/v1/AUTH_p1/new1") == 1 and "/v1/AUTH_p1/c" not in puts


def test_extract_into_container_with_prefix(swift):
    app = make(swift)
    resp = extract(app, "/v1/AUTH_p1/c/pre", tarball([("a/b", b"1", {})]))
    assert json.loads(resp.body)["Number Files Created"] == 1
    assert ("AUTH_p1", "c", "pre/a/b") in swift.objects


def test_extract_errors(swift):
    app = make(swift)
    assert extract(app, "/v1/AUTH_p1", b"x", "zip").status_int == 400
    result = json.loads(extract(app, "/v1/AUTH_p1", b"not a tar at all" * 40).body)
    assert result["Response Status"] == "400 Bad Request"
    assert result["Response Body"].startswith("Invalid Tar File")
    result = json.loads(extract(app, "/v1/AUTH_p1", tarball([("toplevel", b"1", {})])).body)
    assert result["Errors"] == [["/toplevel", "400 Bad Request"]]
    result = json.loads(extract(app, "/v1/AUTH_p1", tarball([("c/x", b"1", {})]),
                                headers=STRANGER).body)
    assert result["Errors"] == [["/c/x", "403 Forbidden"]]
    assert ("AUTH_p1", "c", "x") not in swift.objects


def test_registered_in_info():
    registry.reset()
    bulk.filter_factory({}, max_deletes_per_request="50")
    found = registry.get_swift_info()
    assert found["bulk_delete"]["max_deletes_per_request"] == 50
    assert found["bulk_upload"]["max_containers_per_extraction"] == 10000
