"""The Containers panel: Swift calls (quoted paths, ACL headers), the object
browser with pseudo-folders, streamed downloads and uploads."""
from __future__ import annotations

import io
import json
from typing import Any
from unittest import mock
from urllib.parse import urlencode

import requests
from django.core.files.uploadedfile import SimpleUploadedFile

from dashboard.panels.project.containers import swift

PREFIX = "my docs/été 2024/"          # spaces, unicode and slashes
PREFIX_Q = "my%20docs/%C3%A9t%C3%A9%202024/"


def swift_resp(status: int = 200, body: Any = None, headers: dict[str, str] | None = None,
               raw: Any = None) -> requests.Response:
    """A real requests.Response, as the object-store adapter returns."""
    resp = requests.Response()
    resp.status_code = status
    resp.reason = {200: "OK", 404: "Not Found", 409: "Conflict"}.get(status, "")
    resp.url = "http://swift.example/v1/AUTH_p/x"
    if raw is not None:
        resp.raw = raw
    elif isinstance(body, (list, dict)):
        resp._content = json.dumps(body).encode()
        resp.headers["Content-Type"] = "application/json; charset=utf-8"
    else:
        resp._content = body or b""
    resp.headers.update(headers or {})
    return resp


def head(read_acl: str = "", count: int = 0) -> requests.Response:
    headers = {"X-Container-Object-Count": str(count), "X-Container-Bytes-Used": "10"}
    if read_acl:
        headers["X-Container-Read"] = read_acl
    return swift_resp(204, headers=headers)


def _messages(body: str) -> str:
    return body.replace("&#x27;", "'")


def test_dash_containers_table_shows_public_flags(client: Any, conn: mock.MagicMock) -> None:
    conn.object_store.get.return_value = swift_resp(body=[
        {"name": "pub", "count": 2, "bytes": 2048}, {"name": "priv", "count": 0, "bytes": 0}])
    conn.object_store.head.side_effect = lambda path: head(
        ".r:*,.rlistings" if path == "pub" else "")
    resp = client.get("/project/containers/")
    assert resp.status_code == 200
    body = resp.content.decode()
    assert '<table class="data" id="containers">' in body
    pub = body[body.index('id="row-pub"'):body.index('id="row-priv"')]
    priv = body[body.index('id="row-priv"'):]
    assert ">public<" in pub and "Make Private" in pub and "Make Public" not in pub
    assert ">private<" in priv and "Make Public" in priv
    assert "2 KiB" in pub and 'href="/project/containers/pub/"' in pub
    conn.object_store.get.assert_called_once_with(
        "", params={"format": "json", "limit": 100}, headers={"Accept": "application/json"})


def test_dash_containers_public_private_toggles_set_the_read_acl(
        client: Any, conn: mock.MagicMock) -> None:
    conn.object_store.post.return_value = swift_resp(204)
    resp = client.post("/project/containers/my%20c%C3%BC/make_public/")
    assert resp.status_code == 302 and resp["Location"] == "/project/containers/"
    conn.object_store.post.assert_called_once_with(
        "my%20c%C3%BC", headers={"X-Container-Read": ".r:*,.rlistings"})
    conn.object_store.post.reset_mock()
    client.post("/project/containers/my%20c%C3%BC/make_private/")
    conn.object_store.post.assert_called_once_with(
        "my%20c%C3%BC", headers={"X-Remove-Container-Read": "1"})
    assert client.get("/project/containers/c/make_public/").status_code == 405


def test_dash_containers_create_validates_like_swift(client: Any, conn: mock.MagicMock) -> None:
    for bad, why in (("a/b", "cannot contain"), ("é" * 129, "258 bytes"), ("..", "cannot name")):
        resp = client.post("/project/containers/-/create/", {"name": bad})
        assert resp.status_code == 400 and why in _messages(resp.content.decode())
    conn.object_store.put.assert_not_called()
    conn.object_store.put.return_value = swift_resp(201)
    resp = client.post("/project/containers/-/create/", {"name": "web ü?", "public": "on"})
    assert resp.status_code == 302
    conn.object_store.put.assert_called_once_with(
        "web%20%C3%BC%3F", headers={"Content-Length": "0", "X-Container-Read": ".r:*,.rlistings"})


def test_dash_containers_delete_of_a_non_empty_container_is_a_message(
        client: Any, conn: mock.MagicMock) -> None:
    conn.object_store.delete.return_value = swift_resp(
        409, b"<html><h1>Conflict</h1><p>There was a conflict.</p></html>",
        {"Content-Type": "text/html"})
    conn.object_store.get.return_value = swift_resp(body=[])
    resp = client.post("/project/containers/full/delete/", follow=True)
    assert resp.status_code == 200
    assert "Container full is not empty" in resp.content.decode()
    conn.object_store.delete.assert_called_once_with("full")


def test_dash_containers_browse_lists_folders_and_objects(client: Any,
                                                          conn: mock.MagicMock) -> None:
    conn.object_store.head.return_value = head(".r:*,.rlistings", count=3)
    conn.object_store.get_endpoint.return_value = "http://swift.example/v1/AUTH_p"
    conn.object_store.get.return_value = swift_resp(body=[
        {"name": PREFIX, "bytes": 0, "content_type": "application/directory",
         "last_modified": "2024-05-01T10:00:00.000000"},
        {"subdir": PREFIX + "sub dir/"},
        {"name": PREFIX + "rapport #1?.pdf", "bytes": 1536, "content_type": "application/pdf",
         "last_modified": "2024-05-01T10:00:00.000000"}])
    resp = client.get("/project/containers/c%201/?" + urlencode({"prefix": PREFIX}))
    assert resp.status_code == 200
    conn.object_store.get.assert_called_once_with(
        "c%201", params={"format": "json", "limit": 500, "prefix": PREFIX, "delimiter": "/"},
        headers={"Accept": "application/json"})
    conn.object_store.head.assert_called_once_with("c%201")
    body = resp.content.decode()
    rows = body[body.index("<tbody>"):]
    assert rows.count('<tr id="row-') == 2                      # the folder marker is hidden
    folder = rows[rows.index('id="row-%ssub dir/"' % PREFIX):]
    assert 'href="/project/containers/c%201/?' + urlencode({"prefix": PREFIX + "sub dir/"}) in (
        folder.replace("&amp;", "&"))
    assert "Delete Folder" in folder
    obj = rows[rows.index('id="row-%srapport #1?.pdf"' % PREFIX):]
    assert "1.5 KiB" in obj and "application/pdf" in obj and "2024-05-01 10:00 UTC" in obj
    assert ("/project/containers/c%201/object/download/?"
            + urlencode({"name": PREFIX + "rapport #1?.pdf"})) in obj.replace("&amp;", "&")
    assert ("http://swift.example/v1/AUTH_p/c%201/" + PREFIX_Q + "rapport%20%231%3F.pdf") in obj
    crumbs = body[body.index('id="breadcrumbs"'):body.index("</nav>", body.index("breadcrumbs"))]
    assert ">my docs</a>" in crumbs and "<strong>été 2024</strong>" in crumbs
    assert "upload/?" + urlencode({"prefix": PREFIX}) in body.replace("&amp;", "&")


def test_dash_containers_browse_of_a_missing_container_is_404(
        client: Any, conn: mock.MagicMock) -> None:
    conn.object_store.head.return_value = swift_resp(404)
    assert client.get("/project/containers/gone/").status_code == 404


class CountingRaw(io.BytesIO):
    """A response body that records how it is read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.reads.append(-1 if size is None else size)
        return super().read(size)


def test_dash_containers_download_streams_in_chunks(client: Any, conn: mock.MagicMock) -> None:
    data = bytes(range(256)) * 1024                             # 256 KiB
    raw = CountingRaw(data)
    conn.object_store.get.return_value = swift_resp(
        raw=raw, headers={"Content-Type": "application/pdf", "Content-Length": str(len(data))})
    name = PREFIX + "rapport #1 été.pdf"
    resp = client.get("/project/containers/c/object/download/?" + urlencode({"name": name}))
    assert resp.status_code == 200 and resp.streaming
    conn.object_store.get.assert_called_once_with(
        "c/" + PREFIX_Q + "rapport%20%231%20%C3%A9t%C3%A9.pdf", stream=True)
    assert raw.reads == []                          # nothing read before the body is sent
    assert resp["Content-Type"] == "application/pdf"
    assert resp["Content-Length"] == str(len(data))
    assert resp["Content-Disposition"] == (
        "attachment; filename*=utf-8''rapport%20%231%20%C3%A9t%C3%A9.pdf")
    assert b"".join(resp.streaming_content) == data
    assert raw.reads and all(0 < n <= swift.CHUNK for n in raw.reads)


def test_dash_containers_upload_streams_the_file_object(client: Any,
                                                        conn: mock.MagicMock) -> None:
    sent: dict[str, Any] = {}

    def put(path: str, data: Any, headers: dict[str, str]) -> requests.Response:
        sent.update(path=path, kind=type(data), headers=headers, body=data.read())
        return swift_resp(201)

    conn.object_store.put.side_effect = put
    upload = SimpleUploadedFile("notes.txt", b"hello swift", content_type="text/plain")
    resp = client.post("/project/containers/c/upload/?" + urlencode({"prefix": PREFIX}),
                       {"object_file": upload, "folder": PREFIX, "name": "a b.txt"})
    assert resp.status_code == 302
    assert resp["Location"] == "/project/containers/c/?" + urlencode({"prefix": PREFIX})
    assert sent["path"] == "c/" + PREFIX_Q + "a%20b.txt"
    assert sent["headers"] == {"Content-Length": "11", "Content-Type": "text/plain"}
    assert not issubclass(sent["kind"], (bytes, str))          # a file object, not its bytes
    assert sent["body"] == b"hello swift"


def test_dash_containers_upload_form_checks_names(client: Any, conn: mock.MagicMock) -> None:
    upload = SimpleUploadedFile("x.txt", b"x")
    resp = client.post("/project/containers/c/upload/",
                       {"object_file": upload, "folder": "/abs", "name": "dir/"})
    assert resp.status_code == 400
    body = _messages(resp.content.decode())
    assert "does not start with '/'" in body
    conn.object_store.put.assert_not_called()
    conn.object_store.head.return_value = head()
    page = client.get("/project/containers/c/upload/?prefix=a%2F")
    assert 'data-upload="1"' in page.content.decode() and 'value="a/"' in page.content.decode()


def test_dash_containers_create_folder_puts_a_marker(client: Any, conn: mock.MagicMock) -> None:
    conn.object_store.put.return_value = swift_resp(201)
    resp = client.post("/project/containers/c/create_folder/?" + urlencode({"prefix": PREFIX}),
                       {"name": "nouveau dossier"})
    assert resp.status_code == 302
    conn.object_store.put.assert_called_once_with(
        "c/" + PREFIX_Q + "nouveau%20dossier/", data=b"",
        headers={"Content-Length": "0", "Content-Type": "application/directory"})
    bad = client.post("/project/containers/c/create_folder/", {"name": "a/b"})
    assert bad.status_code == 400 and conn.object_store.put.call_count == 1


def test_dash_containers_delete_folder_only_when_empty(client: Any, conn: mock.MagicMock) -> None:
    conn.object_store.get.return_value = swift_resp(body=[
        {"name": "f/", "bytes": 0}, {"name": "f/x", "bytes": 1}])
    resp = client.post("/project/containers/c/delete_folder/?prefix=f%2F")
    assert resp.status_code == 302
    conn.object_store.delete.assert_not_called()
    assert "Folder f/ is not empty" in client.get("/project/overview/").content.decode()
    conn.object_store.get.return_value = swift_resp(body=[{"name": "f/", "bytes": 0}])
    conn.object_store.delete.return_value = swift_resp(204)
    client.post("/project/containers/c/delete_folder/?prefix=f%2F")
    conn.object_store.delete.assert_called_once_with("c/f/")


def test_dash_containers_delete_object_goes_back_to_its_folder(
        client: Any, conn: mock.MagicMock) -> None:
    conn.object_store.delete.return_value = swift_resp(204)
    name = PREFIX + "x y"
    resp = client.post("/project/containers/c/object/delete/?" + urlencode({"name": name}))
    assert resp["Location"] == "/project/containers/c/?" + urlencode({"prefix": PREFIX})
    conn.object_store.delete.assert_called_once_with("c/" + PREFIX_Q + "x%20y")


def test_dash_containers_quote_path_keeps_dot_segments() -> None:
    assert swift.quote_path("c", "a/../b/./c") == "c/a/%2E%2E/b/%2E/c"
    assert swift.quote_path("a/b?") == "a%2Fb%3F"
    assert swift.is_public(".r:*, .rlistings") and not swift.is_public(".r:example.com")


def test_dash_containers_swift_html_errors_read_as_text(client: Any,
                                                         conn: mock.MagicMock) -> None:
    conn.object_store.put.return_value = swift_resp(
        413, b"<html><h1>Request Entity Too Large</h1><p>Quota exceeded</p></html>",
        {"Content-Type": "text/html"})
    upload = SimpleUploadedFile("x.txt", b"x")
    resp = client.post("/project/containers/c/upload/", {"object_file": upload})
    assert resp.status_code == 400
    body = resp.content.decode()
    assert "Request Entity Too Large: Quota exceeded (HTTP 413)" in body
    assert "&lt;html" not in body


def test_dash_containers_upload_limit(client: Any, conn: mock.MagicMock) -> None:
    from django.test import override_settings

    with override_settings(STRATUS_MAX_UPLOAD_MB=1):
        over = SimpleUploadedFile("a.bin", b"x" * (1024 * 1024 + 1))
        resp = client.post("/project/containers/c/upload/", {"object_file": over})
        assert resp.status_code == 400 and "upload limit of 1 MiB" in resp.content.decode()
        far_over = SimpleUploadedFile("b.bin", b"x" * (3 * 1024 * 1024))
        resp = client.post("/project/containers/c/upload/", {"object_file": far_over})
        assert resp.status_code == 200 and "upload limit of 1 MiB" in resp.content.decode()
    conn.object_store.put.assert_not_called()
