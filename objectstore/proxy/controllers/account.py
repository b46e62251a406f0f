"""Requests to ``/v1/<account>``: listings and metadata, and (for reseller admins, when
allowed) account creation and deletion."""
from __future__ import annotations

from typing import Any

from objectstore.common import constraints
from objectstore.common.utils import Timestamp
from objectstore.proxy import listing
from objectstore.proxy.controllers.base import Controller, http_response, remove_meta_headers


class AccountController(Controller):
    server_type = "Account"
    allowed_methods = ("GET", "HEAD", "POST", "PUT", "DELETE")

    @property
    def path(self) -> str:
        return "/" + self.account

    def GET(self) -> Any:
        return self._get_or_head()

    def HEAD(self) -> Any:
        return self._get_or_head()

    def _get_or_head(self) -> Any:
        denied = self.authorize(None)
        if denied is not None:
            return denied
        kept = self.kept_info_answer(self.path)
        if kept is not None:
            return kept
        req = self.req
        query: dict[str, str] | None = None
        media = listing.PLAIN
        if req.method == "GET":
            try:
                media = listing.content_type(req)
                query = listing.backend_query(req, self.app.limits["account_listing_limit"])
            except listing.NotAcceptable:
                return http_response(406)
            except ValueError as err:
                return http_response(412, str(err))
        ring = self.app.account_ring
        part = ring.get_part(self.account)
        resp = self.read_one(ring, part, req.method, self.path, self.backend_headers(),
                             query=query)
        status = resp if isinstance(resp, int) else resp.status
        if status == 404 and self.app.account_autocreate:
            if not isinstance(resp, int):
                resp.close()
            return self._answer([], media, self._empty_headers())
        if isinstance(resp, int) or resp.status // 100 != 2:
            if not isinstance(resp, int):
                resp.close()
            return http_response(status)
        headers = self.client_headers(resp)
        entries = resp.json() if req.method == "GET" else []
        resp.close()
        return self._answer(entries or [], media, headers)

    def _answer(self, entries: list[Any], media: str, headers: dict[str, str]) -> Any:
        headers["Accept-Ranges"] = "bytes"
        if int(headers.get("X-Account-Container-Count", 0) or 0) > 0:
            for what, key in (("Bytes-Used", "X-Account-Bytes-Used"),
                              ("Container-Count", "X-Account-Container-Count"),
                              ("Object-Count", "X-Account-Object-Count")):
                headers.setdefault("X-Account-Storage-Policy-Policy-0-" + what,
                                   headers.get(key, "0"))
        if self.req.method == "HEAD":
            return self.keep_info_answer(
                self.path, listing.response([], media, "", "", headers, status=204),
                self.app.recheck_account_existence)
        return listing.response(entries, media, "account", self.account, headers)

    @staticmethod
    def _empty_headers() -> dict[str, str]:
        """What an autocreated (not yet existing) account shows."""
        now = Timestamp.now().normal
        return {"X-Account-Container-Count": "0", "X-Account-Object-Count": "0",
                "X-Account-Bytes-Used": "0", "X-Timestamp": now, "X-Put-Timestamp": now}

    def POST(self) -> Any:
        error = constraints.check_metadata(self.app.conf, self.req.headers, "account")
        if error:
            return http_response(400, error)
        denied = self.authorize(None)
        if denied is not None:
            return denied
        status = self._post()
        if status == 404 and self.app.account_autocreate:
            self.create_account()
            status = self._post()
        self.forget_info(self.account)
        return http_response(status)

    def _post(self) -> int:
        headers = self.backend_headers()
        headers["X-Timestamp"] = Timestamp.now().internal
        headers.update(remove_meta_headers(self.req.headers, "account"))
        ring = self.app.account_ring
        status, _ = self.write_all(ring, ring.get_part(self.account), "POST", self.path,
                                   lambda _i: headers)
        return status

    def create_account(self) -> int:
        """PUT the account on its servers (autocreate); the quorum status."""
        headers = {"X-Timestamp": Timestamp.now().internal, "X-Trans-Id": self.trans_id}
        ring = self.app.account_ring
        status, _ = self.write_all(ring, ring.get_part(self.account), "PUT", self.path,
                                   lambda _i: headers)
        self.forget_info(self.account)
        return status

    def _management_denied(self) -> Any:
        if not self.app.allow_account_management:
            return http_response(405, headers={"Allow": "GET, HEAD, OPTIONS, POST"})
        denied = self.authorize(None)
        if denied is not None:
            return denied
        if "swift.authorize" in self.req.environ and not self.req.environ.get(
                "reseller_request"):
            return http_response(403)
        return None

    def PUT(self) -> Any:
        denied = self._management_denied()
        if denied is not None:
            return denied
        error = constraints.check_metadata(self.app.conf, self.req.headers, "account")
        if error:
            return http_response(400, error)
        headers = self.backend_headers()
        headers["X-Timestamp"] = Timestamp.now().internal
        ring = self.app.account_ring
        status, _ = self.write_all(ring, ring.get_part(self.account), "PUT", self.path,
                                   lambda _i: headers)
        self.forget_info(self.account)
        return http_response(status)

    def DELETE(self) -> Any:
        denied = self._management_denied()
        if denied is not None:
            return denied
        if self.req.query_string:
            return http_response(400, "Bad Request")
        headers = self.backend_headers()
        headers["X-Timestamp"] = Timestamp.now().internal
        ring = self.app.account_ring
        status, _ = self.write_all(ring, ring.get_part(self.account), "DELETE", self.path,
                                   lambda _i: headers)
        self.forget_info(self.account)
        return http_response(status)
