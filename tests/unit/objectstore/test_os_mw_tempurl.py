"""tempurl in front of keystoneauth and a fake proxy: signatures, expiry, methods,
prefixes, keys of accounts and containers, headers."""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import quote

import pytest
import webob

from objectstore.common import registry
from objectstore.middleware import keystoneauth, tempurl
from tests.unit.objectstore.os_mw_fakes import FakeSwift

KEY = "s3cret"
PATH = "/v1/AUTH_p1/c/obj.txt"


@pytest.fixture
def swift():
    fake = FakeSwift()
    fake.add_account("AUTH_p1", X_Account_Meta_Temp_URL_Key=KEY)
    fake.add_container("AUTH_p1", "c")
    fake.add_object("AUTH_p1", "c", "obj.txt", b"hello", X_Object_Meta_Color="red",
                    X_Object_Meta_Public_Tag="yes")
    fake.add_object("AUTH_p1", "c", "dir/a", b"a")
    fake.add_object("AUTH_p1", "c", "other/b", b"b")
    fake.add_container("AUTH_p1", "ckey", X_Container_Meta_Temp_URL_Key_2="ckey2")
    fake.add_object("AUTH_p1", "ckey", "o", b"container key")
    return fake


@pytest.fixture
def app(swift):
    return tempurl.filter_factory({})(keystoneauth.filter_factory({})(swift))


def url(path=PATH, method="GET", key=KEY, expires=None, digest="sha256", extra=""):
    expires = int(time.time() + 60) if expires is None else expires
    sig = tempurl.sign(key, method, expires, path, digest)
    return "%s?temp_url_sig=%s&temp_url_expires=%s%s" % (quote(path), sig, expires, extra)


def call(app, target, method="GET", headers=None, body=None):
    req = webob.Request.blank(target, method=method, headers=headers or {})
    if body is not None:
        req.body = body
    return req.get_response(app)


@pytest.mark.parametrize("digest", ["sha1", "sha256", "sha512"])
def test_valid_get(app, digest):
    resp = call(app, url(digest=digest))
    assert resp.status_int == 200 and resp.body == b"hello"
    assert resp.headers["Content-Disposition"] == (
        "attachment; filename=\"obj.txt\"; filename*=UTF-8''obj.txt")
    # user metadata is not shown, except the "public" kind
    assert "X-Object-Meta-Color" not in resp.headers
    assert resp.headers["X-Object-Meta-Public-Tag"] == "yes"


def test_base64_signature(app):
    expires = int(time.time() + 60)
    mac = hmac.new(KEY.encode(), ("GET\n%d\n%s" % (expires, PATH)).encode(),
                   hashlib.sha512).digest()
    sig = "sha512:" + base64.urlsafe_b64encode(mac).decode().rstrip("=")
    resp = call(app, "%s?temp_url_sig=%s&temp_url_expires=%d" % (PATH, sig, expires))
    assert resp.status_int == 200


def test_iso8601_expiry(app):
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60))
    sig = tempurl.sign(KEY, "GET", expires, PATH)
    # the signature is over the value as sent
    resp = call(app, "%s?temp_url_sig=%s&temp_url_expires=%s" % (PATH, sig, expires))
    assert resp.status_int == 401
    unix = tempurl.parse_expires(expires)
    sig = tempurl.sign(KEY, "GET", unix, PATH)
    resp = call(app, "%s?temp_url_sig=%s&temp_url_expires=%s" % (PATH, sig, expires))
    assert resp.status_int == 200


@pytest.mark.parametrize("target", [
    url(key="wrong"),
    url(expires=int(time.time()) - 1),
    url(method="PUT"),                                  # signed for another method
    url().replace("obj.txt", "other"),                  # signed for another object
    url(digest="sha1").replace("temp_url_sig=", "temp_url_sig=00"),
    PATH + "?temp_url_sig=abc&temp_url_expires=soon",
    PATH + "?temp_url_expires=%d" % (time.time() + 60),
    url() + "&temp_url_sig=x",
], ids=["wrong-key", "expired", "other-method", "other-object", "bad-digest",
        "bad-expiry", "no-signature", "two-signatures"])
def test_invalid(app, target):
    resp = call(app, target)
    assert resp.status_int == 401
    assert resp.body == b"Temp URL invalid\n"


def test_head_uses_get_or_put_signature(app):
    assert call(app, url(method="GET"), "HEAD").status_int == 200
    assert call(app, url(method="PUT"), "HEAD").status_int == 200
    assert call(app, url(method="DELETE"), "HEAD").status_int == 401


def test_put_and_delete(app, swift):
    target = url(path="/v1/AUTH_p1/c/new", method="PUT")
    resp = call(app, target, "PUT", {"X-Timestamp": "1.0", "X-Object-Meta-A": "b"}, b"up")
    assert resp.status_int == 201
    body, headers = swift.objects[("AUTH_p1", "c", "new")]
    assert body == b"up" and "X-Timestamp" not in headers and headers["X-Object-Meta-A"] == "b"
    assert swift.authorized[-1].remote_user == ".wsgi.tempurl"
    assert call(app, url(path="/v1/AUTH_p1/c/new", method="DELETE"), "DELETE"
                ).status_int == 204


def test_manifest_put_refused(app):
    target = url(path="/v1/AUTH_p1/c/new", method="PUT")
    resp = call(app, target, "PUT", {"X-Object-Manifest": "c/dir/"}, b"")
    assert resp.status_int == 400


def test_method_not_allowed(swift):
    app = tempurl.filter_factory({}, methods="GET HEAD")(keystoneauth.filter_factory({})(swift))
    target = url(path="/v1/AUTH_p1/c/new", method="PUT")
    assert call(app, target, "PUT", body=b"x").status_int == 401
    assert call(app, url()).status_int == 200


def test_disallowed_digest(swift):
    app = tempurl.filter_factory({}, allowed_digests="sha256")(swift)
    assert call(app, url(digest="sha1")).status_int == 401
    assert call(app, url(digest="sha256")).status_int == 200


def test_prefix(app):
    expires = int(time.time() + 60)
    sig = tempurl.sign(KEY, "GET", expires, "prefix:/v1/AUTH_p1/c/dir/")
    query = "?temp_url_sig=%s&temp_url_expires=%d&temp_url_prefix=dir/" % (sig, expires)
    assert call(app, "/v1/AUTH_p1/c/dir/a" + query).status_int == 200
    assert call(app, "/v1/AUTH_p1/c/other/b" + query).status_int == 401
    assert call(app, "/v1/AUTH_p1/c2/dir/a" + query).status_int == 401


def test_container_key(app):
    assert call(app, url(path="/v1/AUTH_p1/ckey/o", key="ckey2")).status_int == 200
    # a container's key is good for that container only
    assert call(app, url(path="/v1/AUTH_p1/c/obj.txt", key="ckey2")).status_int == 401


def test_second_account_key(app, swift):
    swift.accounts["AUTH_p1"]["X-Account-Meta-Temp-URL-Key-2"] = "two"
    assert call(app, url(key="two")).status_int == 200
    del swift.accounts["AUTH_p1"]["X-Account-Meta-Temp-URL-Key"]
    assert call(app, url(key=KEY)).status_int == 401


def test_filename_and_inline(app):
    resp = call(app, url(extra="&filename=report%20final.pdf"))
    assert resp.headers["Content-Disposition"] == (
        "attachment; filename=\"report final.pdf\"; filename*=UTF-8''report%20final.pdf")
    assert call(app, url(extra="&inline")).headers["Content-Disposition"] == "inline"
    resp = call(app, url(extra="&inline&filename=x.txt"))
    assert resp.headers["Content-Disposition"].startswith("inline; filename=\"x.txt\"")


def test_no_temp_url_passes_to_auth(app):
    assert call(app, PATH).status_int == 401


def test_not_an_object(app):
    assert call(app, url(path="/v1/AUTH_p1/c")).status_int == 401


def test_registered_in_info():
    registry.reset()
    tempurl.filter_factory({}, methods="GET PUT")
    found = registry.get_swift_info()["tempurl"]
    assert found["methods"] == ["GET", "PUT"]
    assert found["incoming_remove_headers"] == ["x-timestamp"]
    assert found["outgoing_remove_headers"] == ["x-object-meta-*"]


def test_authorization_is_scoped_to_the_key(app, swift):
    """Subrequests (SLO/DLO segments) reuse swift.authorize: an account key covers its
    account, a container key only its container."""
    assert call(app, url()).status_int == 200
    authorize = swift.authorized[-1].environ["swift.authorize"]
    assert authorize(webob.Request.blank("/v1/AUTH_p1/elsewhere/seg")) is None
    assert authorize(webob.Request.blank("/v1/AUTH_other/c/seg")).status_int == 401
    assert call(app, url(path="/v1/AUTH_p1/ckey/o", key="ckey2")).status_int == 200
    authorize = swift.authorized[-1].environ["swift.authorize"]
    assert authorize(webob.Request.blank("/v1/AUTH_p1/ckey/seg")) is None
    assert authorize(webob.Request.blank("/v1/AUTH_p1/elsewhere/seg")).status_int == 401
