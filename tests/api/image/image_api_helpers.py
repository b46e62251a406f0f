"""Helpers of the image API tests: a client that speaks as a project, Glance error checks.

Every request made through ``Api.call`` is checked for what Glance guarantees on
every response: an ``X-OpenStack-Request-ID`` header, never a 500, and on an
error Glance's plain-text body ``"<code> <title>\\n\\n<message>"``.
"""
from __future__ import annotations

import json
import os
import re
import time
import uuid
from typing import Any

import webtest

PATCH_TYPE = "application/openstack-images-v2.1-json-patch"
REQUEST_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_NO_BODY = object()
_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
#: The data path (PUT/GET /file, /stage, /import) is in the tree.
DATA_PATH = os.path.exists(os.path.join(_REPO, "image", "api", "controllers",
                                        "image_data.py"))


def project() -> str:
    """A fresh project id (keystone style: 32 hex digits)."""
    return uuid.uuid4().hex


def unique(prefix: str = "img") -> str:
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def check_error(resp: webtest.TestResponse, code: int) -> str:
    """Assert ``resp`` is a Glance error with ``code``; return its message."""
    assert resp.status_int == code, "%s: %s" % (resp.status, resp.text[:500])
    if resp.request.method == "HEAD":
        return ""
    assert resp.content_type == "text/plain", resp.content_type
    text = resp.text
    head, sep, rest = text.partition("\n\n")
    assert sep, repr(text)
    status_code, _sp, title = head.partition(" ")
    assert status_code == str(code), repr(text)
    assert title and title == resp.status.partition(" ")[2], repr(text)
    message = rest.strip()
    assert message, repr(text)
    return message


class Api:
    """A webtest client that speaks as a project through the fake auth filter."""

    def __init__(self, app: webtest.TestApp) -> None:
        self.app = app

    @staticmethod
    def auth(project_id: str | None, roles: str | None = None,
             user: str | None = None) -> dict[str, str]:
        headers: dict[str, str] = {}
        if project_id is not None:
            headers["X-Test-Project"] = project_id
        if roles is not None:
            headers["X-Test-Roles"] = roles
        if user is not None:
            headers["X-Test-User"] = user
        return headers

    def call(self, method: str, path: str, project_id: str | None, *,
             roles: str | None = None, json_body: Any = _NO_BODY,
             body: bytes | str | None = None, content_type: str | None = None,
             headers: dict[str, str] | None = None,
             status: int | None = None) -> webtest.TestResponse:
        all_headers = self.auth(project_id, roles)
        all_headers.update(headers or {})
        if json_body is not _NO_BODY:
            body = json.dumps(json_body)
            content_type = content_type or "application/json"
        if isinstance(body, str):
            body = body.encode("utf-8")
        if content_type is not None:
            all_headers["Content-Type"] = content_type
        kwargs: dict[str, Any] = {"method": method, "headers": all_headers,
                                  "expect_errors": True}
        if body is not None:
            kwargs["body"] = body
        resp = self.app.request(path, **kwargs)
        assert resp.status_int < 500, "%s %s -> %s: %s" % (method, path, resp.status,
                                                            resp.text[:500])
        assert REQUEST_ID.match(resp.headers.get("X-OpenStack-Request-ID", "")), \
            dict(resp.headers)
        if resp.status_int >= 400:
            check_error(resp, resp.status_int)
        if status is not None:
            assert resp.status_int == status, "%s %s -> %s (wanted %s): %s" % (
                method, path, resp.status, status, resp.text[:500])
        return resp

    # -- images
    def create(self, project_id: str, roles: str | None = None, status: int = 201,
               **fields: Any) -> dict[str, Any]:
        resp = self.call("POST", "/v2/images", project_id, roles=roles, json_body=fields,
                         status=status)
        return dict(resp.json) if status == 201 else {"error": resp.text}

    def show(self, project_id: str, image_id: str, roles: str | None = None,
             status: int = 200) -> dict[str, Any]:
        resp = self.call("GET", "/v2/images/" + image_id, project_id, roles=roles,
                         status=status)
        return dict(resp.json) if status == 200 else {}

    def patch(self, project_id: str, image_id: str, ops: Any, roles: str | None = None,
              status: int = 200, content_type: str = PATCH_TYPE) -> webtest.TestResponse:
        return self.call("PATCH", "/v2/images/" + image_id, project_id, roles=roles,
                         body=json.dumps(ops), content_type=content_type, status=status)

    def delete(self, project_id: str, image_id: str, roles: str | None = None,
               status: int = 204) -> webtest.TestResponse:
        return self.call("DELETE", "/v2/images/" + image_id, project_id, roles=roles,
                         status=status)

    def list(self, project_id: str, query: str = "", roles: str | None = None,
             status: int = 200) -> dict[str, Any]:
        path = "/v2/images" + ("?" + query if query else "")
        resp = self.call("GET", path, project_id, roles=roles, status=status)
        return dict(resp.json) if status == 200 else {}

    def list_ids(self, project_id: str, query: str = "",
                 roles: str | None = None) -> list[str]:
        return [i["id"] for i in self.list(project_id, query, roles)["images"]]

    def add_member(self, owner: str, image_id: str, member: str,
                   status: int = 200) -> webtest.TestResponse:
        return self.call("POST", "/v2/images/%s/members" % image_id, owner,
                         json_body={"member": member}, status=status)

    def set_member_status(self, caller: str, image_id: str, member: str, value: Any,
                          status: int | None = 200) -> webtest.TestResponse:
        return self.call("PUT", "/v2/images/%s/members/%s" % (image_id, member), caller,
                         json_body={"status": value}, status=status)

    # -- data (the data path)
    def upload(self, project_id: str, image_id: str, data: bytes,
               status: int = 204, roles: str | None = None) -> webtest.TestResponse:
        return self.call("PUT", "/v2/images/%s/file" % image_id, project_id, roles=roles,
                         body=data, content_type="application/octet-stream", status=status)

    def active_image(self, project_id: str, data: bytes = b"x" * 1024,
                     **fields: Any) -> dict[str, Any]:
        """A raw/bare image with ``data`` uploaded (status active)."""
        fields.setdefault("disk_format", "raw")
        fields.setdefault("container_format", "bare")
        image = self.create(project_id, **fields)
        self.upload(project_id, image["id"], data)
        return self.show(project_id, image["id"])

    def wait_status(self, project_id: str, image_id: str, wanted: str,
                    timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        image = self.show(project_id, image_id)
        while image["status"] != wanted and time.monotonic() < deadline:
            time.sleep(0.05)
            image = self.show(project_id, image_id)
        assert image["status"] == wanted, image
        return image
