"""staticweb in front of a fake proxy: index pages, listings with CSS, error pages,
slash redirects, directory markers, who gets the web mode."""
from __future__ import annotations

import pytest
import webob

from objectstore.common import registry
from objectstore.middleware import staticweb
from tests.unit.objectstore.os_fake_swift import FakeSwift, acl_authorize

A = "AUTH_a"


@pytest.fixture
def swift():
    fake = FakeSwift()
    fake.add_container(A, "site", X_Container_Meta_Web_Index="index.html",
                       X_Container_Meta_Web_Error="error.html")
    fake.add_object(A, "site", "index.html", b"<p>home</p>", {"Content-Type": "text/html"})
    fake.add_object(A, "site", "404error.html", b"<p>lost</p>", {"Content-Type": "text/html"})
    fake.add_object(A, "site", "403error.html", b"<p>no</p>", {"Content-Type": "text/html"})
    fake.add_object(A, "site", "page.html", b"<p>page</p>", {"Content-Type": "text/html"})
    fake.add_object(A, "site", "docs/index.html", b"<p>docs</p>",
                    {"Content-Type": "text/html"})
    fake.add_object(A, "site", "marker", b"", {"Content-Type": "application/directory"})
    fake.add_object(A, "site", "marker/index.html", b"<p>marked</p>",
                    {"Content-Type": "text/html"})
    fake.add_container(A, "list", X_Container_Meta_Web_Listings="true",
                       X_Container_Meta_Web_Listings_CSS="style.css")
    fake.add_object(A, "list", "a <b>.txt", b"12345", {"Content-Type": "text/plain"})
    fake.add_object(A, "list", "z.bin", b"x" * 2048)
    fake.add_container(A, "plain")
    fake.add_object(A, "plain", "o", b"data")
    return fake


@pytest.fixture
def app(swift):
    return staticweb.filter_factory({})(swift)


def get(app, path, method="GET", **environ):
    req = webob.Request.blank(path, method=method, environ=environ)
    return req.get_response(app)


def test_container_redirects_to_its_slash(app):
    resp = get(app, "/v1/%s/site" % A)
    assert resp.status_int == 301
    assert resp.headers["Location"] == "http://localhost/v1/%s/site/" % A


def test_index_page(app, swift):
    resp = get(app, "/v1/%s/site/" % A)
    assert resp.status_int == 200 and resp.body == b"<p>home</p>"
    assert resp.content_type == "text/html" and resp.headers["ETag"]
    assert [c.source for c in swift.calls if c.method == "GET"] == ["SW"]
    head = get(app, "/v1/%s/site/" % A, method="HEAD")
    assert head.status_int == 200 and head.body == b""


def test_subdirectory_index_and_redirect(app):
    assert get(app, "/v1/%s/site/docs/" % A).body == b"<p>docs</p>"
    resp = get(app, "/v1/%s/site/docs" % A)
    assert resp.status_int == 301
    assert resp.headers["Location"].endswith("/site/docs/")


def test_directory_marker_object(app):
    resp = get(app, "/v1/%s/site/marker" % A)
    assert resp.status_int == 301 and resp.headers["Location"].endswith("/site/marker/")
    assert get(app, "/v1/%s/site/marker/" % A).body == b"<p>marked</p>"


def test_plain_object_is_served(app):
    resp = get(app, "/v1/%s/site/page.html" % A)
    assert resp.status_int == 200 and resp.body == b"<p>page</p>"


def test_error_page_keeps_the_status(app):
    resp = get(app, "/v1/%s/site/nothing-here" % A)
    assert resp.status_int == 404 and resp.body == b"<p>lost</p>"
    assert resp.content_type == "text/html"


def test_error_pages_are_read_as_the_client(app, swift):
    # An auth system that admits only the owner: the anonymous client's read is
    # denied, and so is its read of the error page, which is not leaked.
    resp = get(app, "/v1/%s/site/page.html" % A, **{"swift.authorize": acl_authorize})
    assert resp.status_int == 403 and b"<p>no</p>" not in resp.body
    assert [c.path for c in swift.calls if c.method == "GET"] == [
        "/v1/%s/site/page.html" % A, "/v1/%s/site/403error.html" % A]


def test_listing_with_css(app):
    resp = get(app, "/v1/%s/list/" % A)
    assert resp.status_int == 200 and resp.content_type == "text/html"
    text = resp.text
    assert '<link rel="stylesheet" type="text/css" href="style.css" />' in text
    assert "<title>Listing of /v1/%s/list/</title>" % A in text
    assert '<a href="a%20%3Cb%3E.txt">a &lt;b&gt;.txt</a>' in text
    assert "2.0K" in text and ">5<" in text


def test_listing_without_css_and_with_label(swift):
    swift.add_container(A, "lab", X_Container_Meta_Web_Listings="yes",
                        X_Container_Meta_Web_Listings_Label="My Site")
    swift.add_object(A, "lab", "f", b"1")
    app = staticweb.filter_factory({})(swift)
    text = get(app, "/v1/%s/lab/" % A).text
    assert "<title>Listing of My Site/lab/</title>" in text
    assert "<style" in text and "<link" not in text


def test_listing_of_missing_directory_is_404(app):
    assert get(app, "/v1/%s/list/nodir/" % A).status_int == 404
    assert get(app, "/v1/%s/list/nodir" % A).status_int == 404


def test_authenticated_requests_pass_unless_web_mode(app):
    resp = get(app, "/v1/%s/list" % A, REMOTE_USER="someone")
    assert resp.status_int == 200 and resp.content_type == "text/plain"
    resp = get(app, "/v1/%s/list/" % A, REMOTE_USER="someone", HTTP_X_WEB_MODE="true")
    assert resp.content_type == "text/html"


def test_preauthorized_subrequests_pass(app):
    resp = get(app, "/v1/%s/site" % A, method="HEAD", **{"swift.authorize_override": True})
    assert resp.status_int == 204
    assert resp.headers["X-Container-Meta-Web-Index"] == "index.html"


def test_containers_without_web_metadata(app):
    assert get(app, "/v1/%s/plain" % A).text == "o\n"
    assert get(app, "/v1/%s/plain" % A, HTTP_X_WEB_MODE="true").status_int == 404
    assert get(app, "/v1/%s/plain/o" % A).body == b"data"


def test_writes_and_accounts_pass(app, swift):
    assert get(app, "/v1/%s/site" % A, method="DELETE").status_int == 409
    assert get(app, "/v1/%s" % A).status_int == 204


def test_registered_in_info():
    registry.reset()
    staticweb.filter_factory({})
    assert registry.get_swift_info()["staticweb"] == {}
