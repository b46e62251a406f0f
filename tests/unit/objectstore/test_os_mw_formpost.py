"""formpost in front of keystoneauth and a fake proxy: signatures (account and container
keys, digests), expiry, limits, redirects, pages, delete-at fields, the multipart
parser."""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import webob

from objectstore.common import registry
from objectstore.middleware import formpost, keystoneauth
from tests.unit.objectstore.os_mw_fakes import FakeSwift

KEY = "s3cret"
PATH = "/v1/AUTH_p1/c/up_"
BOUNDARY = "--b0undary--"


@pytest.fixture
def swift():
    fake = FakeSwift()
    fake.add_account("AUTH_p1", X_Account_Meta_Temp_URL_Key=KEY)
    fake.add_container("AUTH_p1", "c")
    fake.add_container("AUTH_p1", "ckey", X_Container_Meta_Temp_URL_Key_2="ckey2")
    return fake


@pytest.fixture
def app(swift):
    return formpost.filter_factory({})(keystoneauth.filter_factory({})(swift))


def form_body(fields, files, boundary=BOUNDARY):
    """A multipart body: ``fields`` (name, value) first, then ``files``
    (name, filename, content type or None, data)."""
    out = []
    for name, value in fields:
        out.append(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                   % (boundary.encode(), name.encode(), value.encode()))
    for name, filename, ctype, data in files:
        head = "--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n" % (
            boundary, name, filename)
        if ctype:
            head += "Content-Type: %s\r\n" % ctype
        out.append(head.encode() + b"\r\n" + data + b"\r\n")
    out.append(b"--%s--\r\n" % boundary.encode())
    return b"".join(out)


def signed_fields(path=PATH, key=KEY, redirect="", size=1024, count=3, expires=None,
                  digest="sha1", extra=()):
    expires = int(time.time() + 60) if expires is None else expires
    sig = formpost.sign_form(key, path, redirect, size, count, expires, digest)
    return [("redirect", redirect), ("max_file_size", str(size)),
            ("max_file_count", str(count)), ("expires", str(expires)),
            ("signature", sig)] + list(extra)


def post(app, body, path=PATH, boundary=BOUNDARY):
    req = webob.Request.blank(path, method="POST", body=body,
                              content_type="multipart/form-data; boundary=%s" % boundary)
    return req.get_response(app)


@pytest.mark.parametrize("digest", ["sha1", "sha256", "sha512"])
def test_upload_with_account_key(app, swift, digest):
    files = [("file1", "a.txt", "text/plain", b"hello"),
             ("file2", "b.bin", None, b"\x00\x01" * 100)]
    resp = post(app, form_body(signed_fields(digest=digest), files))
    assert resp.status_int == 201, resp.body
    assert resp.content_type == "text/html"
    body, headers = swift.objects[("AUTH_p1", "c", "up_a.txt")]
    assert body == b"hello" and headers["Content-Type"] == "text/plain"
    assert swift.objects[("AUTH_p1", "c", "up_b.bin")][0] == b"\x00\x01" * 100
    puts = [c for c in swift.calls if c.method == "PUT"]
    assert [c.source for c in puts] == ["FP", "FP"]


def test_upload_with_container_key_and_base64_signature(app, swift):
    path = "/v1/AUTH_p1/ckey/"
    expires = int(time.time() + 60)
    message = "%s\n\n10\n1\n%d" % (path, expires)
    mac = hmac.new(b"ckey2", message.encode(), hashlib.sha512).digest()
    sig = "sha512:" + base64.urlsafe_b64encode(mac).decode().rstrip("=")
    fields = [("redirect", ""), ("max_file_size", "10"), ("max_file_count", "1"),
              ("expires", str(expires)), ("signature", sig)]
    resp = post(app, form_body(fields, [("f", "x", None, b"12345")]), path=path)
    assert resp.status_int == 201
    assert swift.objects[("AUTH_p1", "ckey", "x")][0] == b"12345"
    # the container's key does not cover another container
    resp = post(app, form_body(fields, [("f", "x", None, b"12345")]), path="/v1/AUTH_p1/c/")
    assert resp.status_int == 401


def test_expired_form(app, swift):
    body = form_body(signed_fields(expires=int(time.time()) - 1), [("f", "a", None, b"x")])
    resp = post(app, body)
    assert resp.status_int == 401
    assert b"FormPost: Form Expired" in resp.body
    assert not swift.objects


def test_invalid_signature_is_not_redirected(app, swift):
    body = form_body(signed_fields(key="wrong", redirect="http://example.com/done"),
                     [("f", "a", None, b"x")])
    resp = post(app, body)
    assert resp.status_int == 401 and "Location" not in resp.headers
    assert b"FormPost: Invalid Signature" in resp.body
    assert not swift.objects


def test_signature_covers_every_field(app, swift):
    fields = signed_fields(size=10)
    fields[1] = ("max_file_size", "1000000")
    resp = post(app, form_body(fields, [("f", "a", None, b"x")]))
    assert resp.status_int == 401


def test_no_keys_at_all(app, swift):
    swift.accounts["AUTH_p1"] = {}
    resp = post(app, form_body(signed_fields(), [("f", "a", None, b"x")]))
    assert resp.status_int == 401 and b"Invalid Signature" in resp.body


def test_redirect_with_status_and_message(app, swift):
    redirect = "http://example.com/done?x=1"
    resp = post(app, form_body(signed_fields(redirect=redirect), [("f", "a", None, b"x")]))
    assert resp.status_int == 303
    location = urlsplit(resp.headers["Location"])
    assert location.netloc == "example.com" and location.path == "/done"
    assert parse_qs(location.query, keep_blank_values=True) == {
        "x": ["1"], "status": ["201"], "message": [""]}


def test_max_file_size_exceeded(app, swift):
    files = [("f", "small", None, b"12345"), ("g", "big", None, b"x" * 11)]
    resp = post(app, form_body(signed_fields(size=10, redirect="http://e.com/r"), files))
    assert resp.status_int == 303
    query = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert query == {"status": ["400"], "message": ["max_file_size exceeded"]}
    assert ("AUTH_p1", "c", "up_small") in swift.objects


def test_max_file_count_exceeded(app, swift):
    files = [("f%d" % i, "n%d" % i, None, b"x") for i in range(3)]
    resp = post(app, form_body(signed_fields(count=2), files))
    assert resp.status_int == 400 and b"max file count exceeded" in resp.body
    assert sorted(o for (_a, _c, o) in swift.objects) == ["up_n0", "up_n1"]


def test_no_files(app):
    resp = post(app, form_body(signed_fields(), []))
    assert resp.status_int == 400 and b"no files to process" in resp.body


def test_empty_file_inputs_are_skipped(app, swift):
    files = [("f", "", None, b""), ("g", "real", None, b"data")]
    resp = post(app, form_body(signed_fields(), files))
    assert resp.status_int == 201
    assert list(swift.objects) == [("AUTH_p1", "c", "up_real")]


def test_non_integer_limits(app):
    fields = signed_fields()
    fields[2] = ("max_file_count", "many")
    fields[4] = ("signature", formpost.sign_form(KEY, PATH, "", 1024, "many",
                                                  fields[3][1], "sha1"))
    resp = post(app, form_body(fields, [("f", "a", None, b"x")]))
    assert resp.status_int == 400 and b"max_file_count not an integer" in resp.body


def test_delete_at_and_after_fields(app, swift):
    at = str(int(time.time() + 3600))
    resp = post(app, form_body(signed_fields(extra=[("x_delete_at", at)]),
                               [("f", "a", None, b"x")]))
    assert resp.status_int == 201
    put = [c for c in swift.calls if c.method == "PUT"][-1]
    assert put.headers["X-Delete-At"] == at
    resp = post(app, form_body(signed_fields(extra=[("x_delete_after", "60")]),
                               [("f", "b", None, b"x")]))
    assert resp.status_int == 201
    put = [c for c in swift.calls if c.method == "PUT"][-1]
    assert put.headers["X-Delete-After"] == "60"
    resp = post(app, form_body(signed_fields(extra=[("x_delete_at", "soon")]),
                               [("f", "c", None, b"x")]))
    assert resp.status_int == 400 and b"x_delete_at not an integer" in resp.body


def test_failed_upload_reports_its_status(app, swift):
    path = "/v1/AUTH_p1/missing/"
    resp = post(app, form_body(signed_fields(path=path), [("f", "a", None, b"x")]), path=path)
    assert resp.status_int == 404 and b"upload error" in resp.body


def test_other_requests_pass_through(app, swift):
    swift.add_object("AUTH_p1", "c", "o", b"data")
    req = webob.Request.blank("/v1/AUTH_p1/c/o", method="POST",
                              headers={"X-Object-Meta-A": "b"})
    # no token: keystoneauth answers, formpost did not touch it
    assert req.get_response(app).status_int == 401
    req = webob.Request.blank(PATH, method="POST", body=b"a=b",
                              content_type="application/x-www-form-urlencoded")
    assert req.get_response(app).status_int == 401


def test_bad_boundary(app):
    resp = post(app, b"garbage without boundary")
    assert resp.status_int == 400 and b"invalid starting boundary" in resp.body


def test_truncated_form(app):
    body = form_body(signed_fields(), [("f", "a", None, b"x" * 100)])
    resp = post(app, body[:-40])
    assert resp.status_int == 400


def test_parser_streams_parts_across_reads():
    data = b"x" * 200000 + b"\r\n--not the boundary"
    body = form_body([("a", "1"), ("b", "2")], [("f", "n", "text/plain", data)], "zz")
    reader = formpost.MultipartReader(io.BytesIO(body + b"trailing junk"), "zz", len(body))
    seen = []
    for part in reader.parts():
        content = part.read(1000) + part.read()
        seen.append((part.name, part.filename, part.content_type, content))
    assert seen == [("a", None, None, b"1"), ("b", None, None, b"2"),
                    ("f", "n", "text/plain", data)]


def test_registered_in_info():
    registry.reset()
    formpost.filter_factory({}, allowed_digests="sha256 md5")
    assert registry.get_swift_info()["formpost"] == {"allowed_digests": ["sha256"]}
