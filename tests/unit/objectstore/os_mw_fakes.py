"""A small in-memory stand-in for the proxy, below the middleware under test.

Like the real proxy it calls ``environ['swift.authorize'](req)`` for every request,
with ``req.acl`` set from the stored container ACLs (read ACL for GET/HEAD, write
ACL for object PUT/POST/DELETE, none for account requests and container writes),
answers HEAD of accounts and containers with their counts and metadata (what
``get_account_info``/``get_container_info`` read), and hides container ACLs from
callers that do not own the account.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

import webob

from objectstore.common import utils
from objectstore.proxy import info

_ACL_HEADERS = ("x-container-read", "x-container-write")


class Call:
    """What the fake saw of one request (after authorization)."""

    def __init__(self, req: webob.Request) -> None:
        self.method = req.method
        self.path = info.from_wsgi_str(req.path_info)
        self.query = req.query_string
        self.headers = dict(req.headers)
        self.source = req.environ.get("swift.source")
        self.remote_user = req.environ.get("REMOTE_USER")
        self.owner = req.environ.get("swift_owner")
        self.environ = req.environ


class FakeSwift:
    """Accounts, containers and objects in dicts; a WSGI app."""

    def __init__(self) -> None:
        self.accounts: dict[str, dict[str, str]] = {}
        self.containers: dict[tuple[str, str], dict[str, str]] = {}
        self.objects: dict[tuple[str, str, str], tuple[bytes, dict[str, str]]] = {}
        self.calls: list[Call] = []
        self.authorized: list[Call] = []

    # --- set-up --------------------------------------------------------------

    def add_account(self, account: str, **headers: str) -> None:
        self.accounts[account] = _norm(headers)

    def add_container(self, account: str, container: str, **headers: str) -> None:
        self.accounts.setdefault(account, {})
        self.containers[(account, container)] = _norm(headers)

    def add_object(self, account: str, container: str, obj: str, body: bytes = b"data",
                   **headers: str) -> None:
        self.containers.setdefault((account, container), {})
        meta = {"Content-Type": "application/octet-stream"}
        meta.update(_norm(headers))
        self.objects[(account, container, obj)] = (body, meta)

    def client_calls(self) -> list[Call]:
        """The calls that were not info HEADs made by middleware."""
        return [c for c in self.calls if not c.environ.get("swift.authorize_override")
                or c.method != "HEAD"]

    # --- WSGI --------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        req = webob.Request(environ)
        try:
            _v, account, container, obj = utils.split_path(
                info.from_wsgi_str(req.path_info), 2, 4, rest_with_last=True)
        except ValueError:
            return webob.Response(status=412, body=b"bad path")(environ, start_response)
        assert account is not None
        self.calls.append(Call(req))
        authorize = environ.get("swift.authorize")
        if authorize is not None:
            req.acl = self._acl(req.method, account, container, obj)
            denial = authorize(req)
            if denial is not None:
                return denial(environ, start_response)
        self.authorized.append(Call(req))
        if obj is not None and container is not None:
            resp = self._object(req, account, container, obj)
        elif container is not None:
            resp = self._container(req, account, container)
        else:
            resp = self._account(req, account)
        return resp(environ, start_response)

    def _acl(self, method: str, account: str, container: str | None,
             obj: str | None) -> str | None:
        if container is None:
            return None
        headers = self.containers.get((account, container), {})
        if method in ("GET", "HEAD"):
            return headers.get("X-Container-Read")
        if obj is not None:
            return headers.get("X-Container-Write")
        return None

    @staticmethod
    def _owner(req: webob.Request) -> bool:
        env = req.environ
        return ("swift.authorize" not in env or bool(env.get("swift_owner"))
                or bool(env.get("swift.authorize_override")))

    # --- accounts ----------------------------------------------------------------

    def _account(self, req: webob.Request, account: str) -> webob.Response:
        if req.method in ("PUT", "POST"):
            created = account not in self.accounts
            if req.method == "POST" and created:
                return webob.Response(status=404)
            _update(self.accounts.setdefault(account, {}), req.headers,
                    ("x-account-meta-", "x-account-sysmeta-", "x-remove-account-meta-"))
            return webob.Response(status=201 if created else 204)
        if req.method == "DELETE":
            return webob.Response(status=204 if self.accounts.pop(account, None) is not None
                                  else 404)
        if account not in self.accounts:
            return webob.Response(status=404)
        names = sorted(c for (a, c) in self.containers if a == account)
        objs = [v for (a, _c, _o), v in self.objects.items() if a == account]
        resp = webob.Response(status=204 if req.method == "HEAD" else 200)
        resp.headers.update(self.accounts[account])
        resp.headers["X-Account-Container-Count"] = str(len(names))
        resp.headers["X-Account-Object-Count"] = str(len(objs))
        resp.headers["X-Account-Bytes-Used"] = str(sum(len(b) for b, _h in objs))
        if req.method == "GET":
            resp.text = "".join(n + "\n" for n in names)
        return resp

    # --- containers ----------------------------------------------------------------

    def _container(self, req: webob.Request, account: str, container: str
                   ) -> webob.Response:
        key = (account, container)
        if req.method in ("PUT", "POST"):
            created = key not in self.containers
            if req.method == "POST" and created:
                return webob.Response(status=404)
            _update(self.containers.setdefault(key, {}), req.headers,
                    ("x-container-meta-", "x-container-sysmeta-", "x-container-read",
                     "x-container-write", "x-versions-location", "x-remove-container-"))
            return webob.Response(status=201 if created else 204 if req.method == "POST"
                                  else 202)
        if key not in self.containers:
            return webob.Response(status=404)
        names = sorted(o for (a, c, o) in self.objects if (a, c) == key)
        if req.method == "DELETE":
            if names:
                return webob.Response(status=409, body=b"Conflict")
            del self.containers[key]
            return webob.Response(status=204)
        resp = webob.Response(status=204 if req.method == "HEAD" else 200)
        for name, value in self.containers[key].items():
            if self._owner(req) or name.lower() not in _ACL_HEADERS:
                resp.headers[name] = value
        resp.headers["X-Container-Object-Count"] = str(len(names))
        resp.headers["X-Container-Bytes-Used"] = str(
            sum(len(self.objects[key + (n,)][0]) for n in names))
        if req.method == "GET":
            resp.text = "".join(n + "\n" for n in names)
        return resp

    # --- objects ------------------------------------------------------------------

    def _object(self, req: webob.Request, account: str, container: str, obj: str
                ) -> webob.Response:
        key = (account, container, obj)
        if req.method == "PUT":
            if (account, container) not in self.containers:
                return webob.Response(status=404)
            body = req.body
            headers = {k: v for k, v in req.headers.items()
                       if k.lower().startswith(("x-object-meta-", "content-type",
                                                "content-disposition", "x-timestamp"))}
            self.objects[key] = (body, headers)
            resp = webob.Response(status=201)
            resp.headers["Etag"] = hashlib.md5(body, usedforsecurity=False).hexdigest()
            return resp
        if key not in self.objects:
            return webob.Response(status=404)
        if req.method == "DELETE":
            del self.objects[key]
            return webob.Response(status=204)
        if req.method == "POST":
            body, headers = self.objects[key]
            _update(headers, req.headers, ("x-object-meta-",))
            return webob.Response(status=202)
        body, headers = self.objects[key]
        resp = webob.Response(status=200, body=body)
        resp.headers.update(headers)
        if req.method == "HEAD":
            resp.body = b""
            resp.headers["Content-Length"] = str(len(body))
        return resp


def _norm(headers: dict[str, str]) -> dict[str, str]:
    """``X_Container_Read`` keyword arguments as header names."""
    return {k.replace("_", "-"): v for k, v in headers.items()}


def _update(stored: dict[str, str], new: Any, prefixes: tuple[str, ...]) -> None:
    for name, value in new.items():
        lname = name.lower()
        if not lname.startswith(prefixes):
            continue
        if lname.startswith("x-remove-"):
            lname, value = "x-" + lname[len("x-remove-"):], ""
        for old in [k for k in stored if k.lower() == lname]:
            del stored[old]
        if value:
            stored[name] = value


def json_body(resp: webob.Response) -> Any:
    return json.loads(resp.body)
