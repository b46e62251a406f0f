"""Container and account quotas, checked before an object is written.

Container quotas: the container's owner sets ``X-Container-Meta-Quota-Bytes`` and/or
``X-Container-Meta-Quota-Count``; an object PUT that would take the container past
either gets 413 ``Upload exceeds quota.``.

Account quotas: ``X-Account-Meta-Quota-Bytes`` may only be set (or removed) by a
reseller admin (``environ['reseller_request']``, set by the auth middleware), since
the account's owner is the one it limits; an object PUT that would take the account
past it gets 413.

Both run after the auth middleware and before the proxy. A caller who may not write
to the container is told so (the auth decision) rather than about the quota. The
check uses the Content-Length of the PUT, so chunked uploads are not limited by
size. Overwrites count as new objects (as in Swift).

The info of the container and the account may come from the proxy's cache (see
``objectstore.proxy.info.INFO_REQUEST``), which is enough to see that no quota is
set: most PUTs then cost no lookup on the storage servers. When a quota is set, its
counts are read fresh from the servers, so the quota stays exact.
"""
from __future__ import annotations

from typing import Any, Callable

import webob
import webob.exc

from objectstore.common.registry import register_swift_info
from objectstore.middleware.keystoneauth import request_parts
from objectstore.proxy import info

EXCEEDED = "Upload exceeds quota."


_ACCOUNT_QUOTA_HEADERS = (("X-Account-Meta-Quota-Bytes", "bytes"),
                          ("X-Account-Quota-Bytes", "bytes"),
                          ("X-Account-Quota-Count", "count"))


def invalid_quota(value: str | None) -> bool:
    """Whether a quota header value is not a non-negative integer (empty removes)."""
    return bool(value) and not str(value).strip().isdigit()


def _quota(meta: dict[str, str], name: str) -> int | None:
    value = meta.get(name)
    if value is None or invalid_quota(value) or value == "":
        return None
    return int(value)


def _has_quota(meta: dict[str, str], *names: str) -> bool:
    return any(_quota(meta, name) is not None for name in names)


def _object_put_parts(req: webob.Request) -> tuple[str, str, str] | None:
    """(account, container, object) of an object PUT, else None."""
    if req.method != "PUT":
        return None
    try:
        account, container, obj = request_parts(req)
    except ValueError:
        return None
    if account and container and obj:
        return account, container, obj
    return None


class _QuotaBase:
    """What both quota filters share: the 413 that respects authorization."""

    source = "QT"

    def __init__(self, app: Any) -> None:
        self.app = app

    def container_info(self, req: webob.Request, fresh: bool = False) -> dict[str, Any]:
        return info.get_container_info(req.environ, self.app, self.source, fresh)

    def exceeded(self, req: webob.Request, container_info: dict[str, Any]) -> Any:
        """401/403 when the caller may not write here anyway, else 413."""
        authorize = req.environ.get("swift.authorize")
        if authorize is not None:
            req.acl = container_info.get("write_acl")
            denial = authorize(req)
            if denial is not None:
                return denial
        return webob.exc.HTTPRequestEntityTooLarge(body=EXCEEDED)


class ContainerQuotas(_QuotaBase):
    """The ``container_quotas`` filter."""

    source = "CQ"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        req = webob.Request(environ)
        answer = self.check(req)
        if answer is not None:
            return answer(environ, start_response)
        return self.app(environ, start_response)

    def check(self, req: webob.Request) -> Any:
        if req.method in ("PUT", "POST"):
            if invalid_quota(req.headers.get("X-Container-Meta-Quota-Bytes")):
                return webob.exc.HTTPBadRequest(body="Invalid bytes quota.")
            if invalid_quota(req.headers.get("X-Container-Meta-Quota-Count")):
                return webob.exc.HTTPBadRequest(body="Invalid count quota.")
        if _object_put_parts(req) is None:
            return None
        cinfo = self.container_info(req)
        if cinfo.get("status", 0) // 100 != 2 or not _has_quota(
                cinfo.get("meta", {}), "quota-bytes", "quota-count"):
            return None
        cinfo = self.container_info(req, fresh=True)
        if cinfo.get("status", 0) // 100 != 2:
            return None
        meta = cinfo.get("meta", {})
        quota_bytes = _quota(meta, "quota-bytes")
        if quota_bytes is not None and req.content_length is not None \
                and cinfo.get("bytes", 0) + req.content_length > quota_bytes:
            return self.exceeded(req, cinfo)
        quota_count = _quota(meta, "quota-count")
        if quota_count is not None and cinfo.get("object_count", 0) + 1 > quota_count:
            return self.exceeded(req, cinfo)
        return None


class AccountQuotas(_QuotaBase):
    """The ``account_quotas`` filter."""

    source = "AQ"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        req = webob.Request(environ)
        answer = self.check(req)
        if answer is not None:
            return answer(environ, start_response)
        return self.app(environ, start_response)

    def check(self, req: webob.Request) -> Any:
        try:
            _account, container, obj = request_parts(req)
        except ValueError:
            return None
        if container is None and req.method in ("PUT", "POST"):
            return self.check_account_change(req)
        if _object_put_parts(req) is None or req.content_length is None:
            return None
        ainfo = info.get_account_info(req.environ, self.app, self.source)
        if ainfo.get("status", 0) // 100 != 2 or not (
                _has_quota(ainfo.get("sysmeta", {}), "quota-bytes", "quota-count")
                or _has_quota(ainfo.get("meta", {}), "quota-bytes")):
            return None
        ainfo = info.get_account_info(req.environ, self.app, self.source, fresh=True)
        if ainfo.get("status", 0) // 100 != 2:
            return None
        meta, sysmeta = ainfo.get("meta", {}), ainfo.get("sysmeta", {})
        quota = _quota(sysmeta, "quota-bytes")
        if quota is None:
            quota = _quota(meta, "quota-bytes")
        if quota is not None and ainfo.get("bytes", 0) + req.content_length > quota:
            return self.exceeded(req, self.container_info(req))
        count = _quota(sysmeta, "quota-count")
        if count is not None and ainfo.get("object_count", 0) + 1 > count:
            return self.exceeded(req, self.container_info(req))
        return None

    @staticmethod
    def check_account_change(req: webob.Request) -> Any:
        """Only reseller admins set or remove quotas; they must be numbers.

        ``X-Account-Meta-Quota-Bytes`` (the older form) is user metadata;
        ``X-Account-Quota-Bytes`` and ``X-Account-Quota-Count`` are kept as sysmeta.
        """
        for name, kind in _ACCOUNT_QUOTA_HEADERS:
            value = req.headers.get(name)
            removing = _remove_header(name) in req.headers
            if value is None and not removing:
                continue
            if req.environ.get("reseller_request") is not True:
                return webob.exc.HTTPForbidden(body="Only a reseller admin sets account quotas")
            if invalid_quota(value):
                return webob.exc.HTTPBadRequest(body="Invalid %s quota." % kind)
            if name.lower().startswith("x-account-quota-"):
                sysmeta = "X-Account-Sysmeta-Quota-" + kind.capitalize()
                req.headers[sysmeta] = "" if removing else (value or "")
                req.headers.pop(name, None)
                req.headers.pop(_remove_header(name), None)
        return None


def _remove_header(name: str) -> str:
    return "X-Remove-" + name[2:]


def container_quota_factory(global_conf: dict[str, Any], **local_conf: Any
                            ) -> Callable[[Any], ContainerQuotas]:
    """Paste entry point of ``container_quotas``."""
    register_swift_info("container_quotas")
    return ContainerQuotas


def account_quota_factory(global_conf: dict[str, Any], **local_conf: Any
                          ) -> Callable[[Any], AccountQuotas]:
    """Paste entry point of ``account_quotas``."""
    register_swift_info("account_quotas")
    return AccountQuotas


#: ``use = egg:stratus#…`` style lookups expect a ``filter_factory``.
filter_factory = container_quota_factory
