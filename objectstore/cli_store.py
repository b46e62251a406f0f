"""The user's object store account as ``stratus objectstore`` reaches it: the account
URL (from the catalog, or ``OS_STORAGE_URL``), an authenticated session, and error
messages that say what to do."""
from __future__ import annotations

import argparse
import os
from typing import Any, Iterator
from urllib.parse import quote

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session

from common.cli import client

SERVICE_TYPE = "object-store"
#: Stores made by the running command (their connections are closed at its end).
_OPEN: list["Store"] = []


class Store:
    """The user's account on the object store: its URL and an authenticated session.

    Every non-``ok`` answer becomes a CLIError that says what to do.
    """

    def __init__(self, args: argparse.Namespace) -> None:
        storage_url = getattr(args, "storage_url", None) or os.environ.get("OS_STORAGE_URL")
        self.headers: dict[str, str] = {}
        if storage_url:
            self.sess = ks_session.Session()
            token = os.environ.get("OS_AUTH_TOKEN")
            if token:
                self.headers["X-Auth-Token"] = token
            self.url = storage_url.rstrip("/")
        else:
            self.sess = client.session_from_env(args.auth_url)
            self.url = self._endpoint()
        _OPEN.append(self)

    def _endpoint(self) -> str:
        ep: dict[str, Any] = {"service_type": SERVICE_TYPE,
                              "interface": os.environ.get("OS_INTERFACE") or "public"}
        if os.environ.get("OS_REGION_NAME"):
            ep["region_name"] = os.environ["OS_REGION_NAME"]
        try:
            url = self.sess.get_endpoint(**ep)
        except ks_exc.EndpointNotFound:
            url = None
        if not url:
            raise client.CLIError(
                "the service catalog has no object-store endpoint: is the object store "
                "enabled (devstack/stack.sh with ENABLED_SERVICES including objectstore)? "
                "`openstack catalog list` shows what there is.")
        return str(url).rstrip("/")

    @property
    def account(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    def url_for(self, container: str | None = None, obj: str | None = None) -> str:
        url = self.url
        if container is not None:
            url += "/" + quote(container.encode("utf-8"), safe="")
        if obj is not None:
            url += "/" + quote(obj.encode("utf-8"), safe="/")
        return url

    def request(self, method: str, container: str | None = None, obj: str | None = None,
                ok: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        """``method`` on the account, a container or an object.

        :raises: CLIError unless the status is in ``ok``; Unauthorized on 401.
        """
        headers = {**self.headers, **(kwargs.pop("headers", None) or {})}
        kwargs.setdefault("log", False)
        resp = self.sess.request(self.url_for(container, obj), method, headers=headers,
                                 raise_exc=False, **kwargs)
        if resp.status_code == 401:
            raise ks_exc.Unauthorized(response=resp)
        if resp.status_code not in ok:
            raise client.CLIError(error_message(resp, method, container, obj))
        return resp

    def listing(self, container: str | None = None, prefix: str | None = None,
                delimiter: str | None = None) -> Iterator[dict[str, Any]]:
        """Every entry of the account's or a container's listing, page by page."""
        marker = ""
        while True:
            params = {"format": "json", "marker": marker}
            if prefix:
                params["prefix"] = prefix
            if delimiter:
                params["delimiter"] = delimiter
            resp = self.request("GET", container, ok=(200, 204), params=params)
            page = resp.json() if resp.status_code == 200 and resp.content else []
            if not page:
                return
            yield from page
            marker = page[-1].get("name") or page[-1].get("subdir")

    def ensure_container(self, container: str) -> None:
        """Create ``container`` unless it exists (PUT answers 201 or 202 either way)."""
        self.request("PUT", container, ok=(201, 202, 204))


def error_message(resp: Any, method: str, container: str | None, obj: str | None) -> str:
    what = ("object %s/%s" % (container, obj) if obj is not None else
            "container %s" % container if container is not None else "the account")
    status = resp.status_code
    hint = {
        403: "you may not do that: your user needs a role that owns the project's account "
             "(member or admin) or the container's ACL must allow it",
        404: "%s does not exist (`stratus objectstore list%s` shows what does)"
             % (what, "" if obj is None else " " + str(container)),
        409: "%s is not empty or changed at the same time: delete its objects first "
             "(`stratus objectstore delete %s` deletes a container with all its objects)"
             % (what, container),
        411: "the proxy needs the length of the upload",
        413: "%s is larger than one object may be: upload it with --segment-size "
             "(e.g. 1G) to store it in segments" % what,
        422: "the data arrived damaged (checksum mismatch): run the command again",
        507: "the object store's devices are full: free some space or add devices",
        503: "the object store could not reach enough storage servers: are they running? "
             "(devstack/stack.sh starts them; logs in /opt/stratus/logs/objectstore-*.log)",
    }.get(status)
    text = hint or client.error_text(resp)
    return "%s %s failed: %s (HTTP %s, transaction %s)" % (
        method, what, text, status, resp.headers.get("X-Trans-Id", "-"))


def close_all() -> None:
    """Close the kept-alive connections of every Store the command made."""
    while _OPEN:
        _OPEN.pop().sess.session.close()
