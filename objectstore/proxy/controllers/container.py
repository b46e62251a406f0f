"""Requests to ``/v1/<account>/<container>``: listings, metadata and ACLs, creation
(creating the account first when autocreate is on) and deletion."""
from __future__ import annotations

import json
from typing import Any, Callable

from objectstore.common import constraints
from objectstore.common.utils import Timestamp
from objectstore.proxy import listing
from objectstore.proxy.controllers.account import AccountController
from objectstore.proxy.controllers.base import (
    Controller, http_response, remove_meta_headers, spread)

_ACL_HEADERS = ("x-container-read", "x-container-write")
_OWNER_ONLY = ("x-container-read", "x-container-write", "x-container-sync-key",
               "x-container-sync-to", "x-remove-container-read", "x-remove-container-write",
               "x-remove-container-sync-key", "x-remove-container-sync-to")
_POLICIES = ("policy-0",)


class ContainerController(Controller):
    server_type = "Container"
    allowed_methods = ("GET", "HEAD", "PUT", "POST", "DELETE")

    @property
    def path(self) -> str:
        return "/%s/%s" % (self.account, self.container)

    # -- reads ------------------------------------------------------------------------

    def GET(self) -> Any:
        return self._get_or_head()

    def HEAD(self) -> Any:
        return self._get_or_head()

    def _get_or_head(self) -> Any:
        assert self.container is not None
        req = self.req
        if "swift.authorize" in req.environ:
            cinfo = self.container_info(self.account, self.container)
            denied = self.authorize(cinfo["read_acl"])
            if denied is not None:
                return denied
        kept = self.kept_info_answer(self.path)
        if kept is not None:
            return kept
        query: dict[str, str] | None = None
        media = listing.PLAIN
        if req.method == "GET":
            try:
                media = listing.content_type(req)
                query = listing.backend_query(req, self.app.limits["container_listing_limit"])
            except listing.NotAcceptable:
                return http_response(406)
            except ValueError as err:
                return http_response(412, str(err))
        ring = self.app.container_ring
        part = ring.get_part(self.account, self.container)
        resp = self.read_one(ring, part, req.method, self.path, self.backend_headers(),
                             query=query)
        if isinstance(resp, int) or resp.status // 100 != 2:
            status = resp if isinstance(resp, int) else resp.status
            if not isinstance(resp, int):
                resp.close()
            return http_response(status)
        headers = self.client_headers(resp, owner=self.is_owner)
        headers["Accept-Ranges"] = "bytes"
        headers.setdefault("X-Storage-Policy", "Policy-0")
        body = resp.read() if req.method == "GET" else b""
        resp.close()
        if req.method == "HEAD":
            return self.keep_info_answer(
                self.path, listing.response([], media, "", "", headers, status=204))
        if media == listing.JSON and not listing.needs_rewrite(body):
            # The container server's JSON is already the client's: pass it through.
            return listing.raw_response(body, media, headers)
        entries = json.loads(body or b"[]")
        return listing.response(entries or [], media, "container", self.container, headers)

    # -- writes -----------------------------------------------------------------------

    def _write_headers(self) -> dict[str, str] | Any:
        """The backend headers of a PUT/POST, or an error answer."""
        error = constraints.check_metadata(self.app.conf, self.req.headers, "container")
        if error:
            return http_response(400, error)
        policy = self.req.headers.get("X-Storage-Policy")
        if self.req.method == "PUT" and policy and policy.strip().lower() not in _POLICIES:
            return http_response(400, "Invalid X-Storage-Policy %r" % policy)
        headers = self.backend_headers()
        headers.update(remove_meta_headers(self.req.headers, "container"))
        clean_acl = self.req.environ.get("swift.clean_acl")
        for name in list(headers):
            if clean_acl is not None and name.lower() in _ACL_HEADERS and headers[name]:
                try:
                    headers[name] = clean_acl(name, headers[name])
                except ValueError as err:
                    return http_response(400, str(err))
        if not self.is_owner:
            for name in list(headers):
                if name.lower() in _OWNER_ONLY:
                    del headers[name]
        headers["X-Timestamp"] = Timestamp.now().internal
        return headers

    def _account_headers(self, base: dict[str, str], create: bool = False
                         ) -> Callable[[int], dict[str, str]] | int:
        """Per-replica headers telling each container server which account replica to
        report to; else the status to answer (404 when the account does not exist and
        cannot be autocreated, 503 when its servers cannot tell)."""
        ainfo = self.account_info(self.account)
        if ainfo["status"] == 404 and create and self.app.account_autocreate:
            AccountController(self.app, self.req, self.account).create_account()
            ainfo = self.account_info(self.account)
        if ainfo["status"] // 100 != 2:
            return 404 if ainfo["status"] == 404 else 503
        aring = self.app.account_ring
        apart, anodes = aring.get_nodes(self.account)
        replicas = self.app.container_ring.replica_count

        def headers_for(index: int) -> dict[str, str]:
            share = spread(anodes, replicas, index)
            return dict(base, **{"X-Account-Host": share["Host"],
                                 "X-Account-Device": share["Device"],
                                 "X-Account-Partition": str(apart)})
        return headers_for

    def PUT(self) -> Any:
        denied = self.authorize(None)
        if denied is not None:
            return denied
        headers = self._write_headers()
        if not isinstance(headers, dict):
            return headers
        headers_for = self._account_headers(headers, create=True)
        if isinstance(headers_for, int):
            return http_response(headers_for)
        return self._write("PUT", headers_for)

    def POST(self) -> Any:
        denied = self.authorize(None)
        if denied is not None:
            return denied
        headers = self._write_headers()
        if not isinstance(headers, dict):
            return headers
        return self._write("POST", lambda _i: headers)

    def DELETE(self) -> Any:
        denied = self.authorize(None)
        if denied is not None:
            return denied
        base = self.backend_headers()
        base["X-Timestamp"] = Timestamp.now().internal
        headers_for = self._account_headers(base)
        if isinstance(headers_for, int):
            return http_response(headers_for)
        return self._write("DELETE", headers_for)

    def _write(self, method: str, headers_for: Callable[[int], dict[str, str]]) -> Any:
        ring = self.app.container_ring
        part = ring.get_part(self.account, self.container)
        status, _answers = self.write_all(ring, part, method, self.path, headers_for)
        self.forget_info(self.account, self.container)
        self.forget_info(self.account)
        return http_response(status)
