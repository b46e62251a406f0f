"""The object store (Swift v1) as the backup driver uses it: containers and objects
in one account.

Backups live in the account of the volume's project (``AUTH_<project_id>``, like
Cinder's Swift backup driver with per-user auth): the calls carry the user's
token and the service token. The account URL is the catalog's object-store
endpoint (or ``[swift] endpoint_override``, which may hold ``%(project_id)s``)
with its account part set to the project's.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote

from keystoneauth1 import adapter as ks_adapter
from oslo_config import cfg
from oslo_log import log as logging

from blockstorage import clients
from blockstorage import exception
from blockstorage.conf import clients as clients_conf

LOG = logging.getLogger(__name__)
SERVICE_TYPE = "object-store"
CHUNK_SIZE = 64 * 1024
#: Swift's longest listing page.
LISTING_LIMIT = 10000


def account_url(endpoint: str, project_id: str, reseller_prefix: str = "AUTH_") -> str:
    """``endpoint`` with its account set to ``<reseller_prefix><project_id>``.

    ``…/v1/AUTH_<other>`` has its last part replaced, ``…/v1/AUTH_`` and
    ``…/v1`` get the account appended, ``%(project_id)s`` is filled in; any
    other URL is taken as it is (an operator's explicit account).

    :param endpoint: the object-store endpoint (catalog or override).
    :param project_id: the project whose account is wanted.
    :param reseller_prefix: the account prefix (``[swift] reseller_prefix``).
    :returns: the account URL, without a trailing slash.
    """
    if "%(project_id)s" in endpoint:
        return (endpoint % {"project_id": project_id}).rstrip("/")
    url = endpoint.rstrip("/")
    head, _, last = url.rpartition("/")
    account = reseller_prefix + project_id
    if last == "v1":
        return url + "/" + account
    if reseller_prefix and last.startswith(reseller_prefix):
        return head + "/" + account
    return url


class ObjectStoreAPI:
    """Swift v1 calls on one account, through an Adapter whose endpoint is that
    account's URL (tests give one with ``endpoint_override``)."""

    def __init__(self, api: ks_adapter.Adapter, timeout: float | None = None) -> None:
        self.api = api
        self.timeout = timeout

    @classmethod
    def for_project(cls, conf: cfg.ConfigOpts, ctxt: Any,
                    project_id: str | None = None) -> ObjectStoreAPI:
        """The client of ``project_id``'s account (default: the context's project).

        :param conf: the configuration (``[service_user]``, ``[swift]``).
        :param ctxt: the context to act for; one without a token acts as the
            service (which then needs rights on the project's account).
        :param project_id: the account's project.
        :returns: a client.
        :raises: ObjectStoreError when no object-store endpoint is found.
        """
        group = conf[clients_conf.SWIFT_GROUP]
        project = str(project_id or ctxt.project_id)
        try:
            if group.endpoint_override:
                endpoint = group.endpoint_override
            else:
                finder = clients.adapter(conf, ctxt, clients_conf.SWIFT_GROUP, SERVICE_TYPE)
                endpoint = finder.get_endpoint()
        except clients.UNREACHABLE as err:
            raise exception.ObjectStoreError(reason=str(err)) from err
        if not endpoint:
            raise exception.ObjectStoreError(reason="no object-store endpoint in the catalog")
        url = account_url(endpoint, project, group.reseller_prefix)
        api = clients.adapter(conf, ctxt, clients_conf.SWIFT_GROUP, SERVICE_TYPE,
                              endpoint_override=url)
        return cls(api, timeout=group.object_timeout)

    def _call(self, method: str, path: str, ok: tuple[int, ...], **kwargs: Any) -> Any:
        if self.timeout is not None:
            kwargs.setdefault("timeout", self.timeout)
        try:
            resp = self.api.request(path, method, raise_exc=False, **kwargs)
        except clients.UNREACHABLE as err:
            raise exception.ObjectStoreError(reason="%s %s: %s" % (method, path, err),
                                             status=None) from err
        if resp.status_code not in ok:
            message = clients.error_message(resp)
            resp.close()
            raise exception.ObjectStoreError(
                reason="%s %s: HTTP %s: %s" % (method, path, resp.status_code, message),
                status=resp.status_code)
        return resp

    @staticmethod
    def _path(container: str, name: str | None = None) -> str:
        path = "/" + quote(container, safe="")
        return path + ("/" + quote(name, safe="/") if name else "")

    def put_container(self, container: str, headers: dict[str, str] | None = None) -> None:
        """Create ``container`` (an existing one is fine).

        :raises: ObjectStoreError (``kwargs["status"]`` holds the HTTP status).
        """
        self._call("PUT", self._path(container), (201, 202, 204), headers=headers or {})

    def put_object(self, container: str, name: str, data: bytes | Iterable[bytes],
                   headers: dict[str, str] | None = None) -> str:
        """Store an object; an iterable is sent chunked, as it is produced.

        :param container: an existing container.
        :param name: the object's name (may contain ``/``).
        :param data: the bytes, or an iterable of byte strings.
        :param headers: e.g. ``Content-Type``, ``ETag`` (checked by the server),
            ``X-Object-Meta-*``.
        :returns: the object's ETag (the md5 of its bytes).
        :raises: ObjectStoreError (422 when an ``ETag`` given did not match).
        """
        sent = dict(headers or {})
        sent.setdefault("Content-Type", "application/octet-stream")
        resp = self._call("PUT", self._path(container, name), (201,), data=data,
                          headers=sent, log=False)
        return str(resp.headers.get("Etag", "")).strip('"')

    def get_object(self, container: str, name: str,
                   chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """The object's bytes, streamed (the request is made before returning).

        :raises: ObjectStoreError (status 404 when there is no such object);
            reading the iterator raises ObjectStoreError when the stream breaks.
        """
        resp = self._call("GET", self._path(container, name), (200,), stream=True)
        return _iterate(resp, chunk_size, "%s/%s" % (container, name))

    def delete_object(self, container: str, name: str) -> bool:
        """Delete an object.

        :returns: True when it was deleted, False when it was not there.
        :raises: ObjectStoreError.
        """
        resp = self._call("DELETE", self._path(container, name), (200, 204, 404))
        return bool(resp.status_code != 404)

    def list_objects(self, container: str, prefix: str | None = None) -> list[str]:
        """Names of the objects in ``container`` starting with ``prefix``, all pages.

        :returns: the names in listing order; [] when the container is missing.
        :raises: ObjectStoreError.
        """
        names: list[str] = []
        marker = ""
        while True:
            params = {"format": "json", "limit": str(LISTING_LIMIT)}
            if prefix:
                params["prefix"] = prefix
            if marker:
                params["marker"] = marker
            resp = self._call("GET", self._path(container), (200, 204, 404), params=params)
            if resp.status_code == 404:
                return names
            page = json.loads(resp.text or "[]") if resp.status_code == 200 else []
            names.extend(str(entry["name"]) for entry in page)
            if len(page) < LISTING_LIMIT:
                return names
            marker = names[-1]


def _iterate(resp: Any, chunk_size: int, what: str) -> Iterator[bytes]:
    try:
        for chunk in resp.iter_content(chunk_size):
            yield bytes(chunk)
    except Exception as err:  # ChunkedEncodingError, read timeouts …
        raise exception.ObjectStoreError(reason="reading %s: %s" % (what, err)) from err
    finally:
        resp.close()
