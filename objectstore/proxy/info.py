"""What middleware needs to know about an account or container, and how it asks.

``make_subrequest`` builds a request for the same pipeline position carrying the
caller's identity; ``get_container_info``/``get_account_info`` HEAD a container or an
account through a given app and cache the answer in ``environ['swift.infocache']``
for the rest of the client request (README.md, "Proxy pipeline and the contract").
"""
from __future__ import annotations

from typing import Any, Mapping
import webob

from objectstore.common import utils

INFOCACHE = "swift.infocache"
#: Environ key marking the HEAD subrequest of :func:`get_container_info` and
#: :func:`get_account_info`: ``"cached"`` lets the proxy answer it from the answers to
#: the same subrequest it gave in the last ``recheck_container_existence`` /
#: ``recheck_account_existence`` seconds (as Swift's memcache does; its own writes of
#: the container or account drop them); ``"fresh"`` makes it ask the storage servers.
INFO_REQUEST = "objectstore.info_request"

#: Environ keys a subrequest inherits as they are (identity, auth, caches, ids).
_COPIED_KEYS = (
    "wsgi.version", "wsgi.errors", "wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once",
    "wsgi.url_scheme", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "SCRIPT_NAME",
    "REMOTE_ADDR", "REMOTE_USER", "HTTP_HOST", "HTTP_USER_AGENT",
    "swift.authorize", "swift.authorize_override", "swift.trans_id", "swift.cache",
    INFOCACHE,
)
#: Environ key prefixes a subrequest inherits (keystonemiddleware and request ids).
_COPIED_PREFIXES = ("keystone.", "openstack.", "stratus.", "tempauth.")
#: Identity headers (from authtoken/tempauth) a subrequest inherits.
_IDENTITY_HEADERS = (
    "HTTP_X_AUTH_TOKEN", "HTTP_X_STORAGE_TOKEN", "HTTP_X_SERVICE_TOKEN",
    "HTTP_X_IDENTITY_STATUS", "HTTP_X_SERVICE_IDENTITY_STATUS", "HTTP_X_USER",
    "HTTP_X_PROJECT", "HTTP_X_TENANT", "HTTP_X_DOMAIN", "HTTP_X_ROLE", "HTTP_X_SERVICE_",
    "HTTP_X_IS_ADMIN_PROJECT", "HTTP_X_SYSTEM_SCOPE", "HTTP_X_TRUST",
    "HTTP_X_OPENSTACK_REQUEST_ID",
)


def _noop_authorize(req: webob.Request) -> None:
    """The ``swift.authorize`` of a pre-authorized subrequest: allows everything."""
    return None


def make_subrequest(environ: Any, method: str = "GET", path: str | None = None,
                    headers: Mapping[str, str] | None = None, body: bytes | None = None,
                    swift_source: str | None = None, pre_authed: bool = False,
                    query: str | None = None) -> webob.Request:
    """A new request for the same pipeline position as ``environ``'s.

    ``path`` is unquoted (``/v1/a/c/o``; a ``?query`` part becomes the query
    string, unless ``query`` is given: then ``path`` is taken whole, as names may
    hold ``?``); without it the original path is used. The new request shares the
    infocache and the identity of the original one; with ``pre_authed`` its
    ``swift.authorize`` allows everything and it acts as the account's owner.
    """
    env: dict[str, Any] = {}
    for key, value in environ.items():
        if key in _COPIED_KEYS or key.startswith(_COPIED_PREFIXES) \
                or key.startswith(_IDENTITY_HEADERS):
            env[key] = value
    env[INFOCACHE] = _cache(environ)
    if path is None:
        env["PATH_INFO"] = environ.get("PATH_INFO", "/")
        env["QUERY_STRING"] = environ.get("QUERY_STRING", "")
    else:
        if query is None:
            path, _, query = path.partition("?")
        env["PATH_INFO"] = to_wsgi_str(path)
        env["QUERY_STRING"] = query
    env["REQUEST_METHOD"] = method
    if pre_authed:
        env["swift.authorize"] = _noop_authorize
        env["swift.authorize_override"] = True
        env["swift_owner"] = True  # sees (and may set) ACLs, as the proxy's own lookups
    if swift_source:
        env["swift.source"] = swift_source
    req = webob.Request.blank("/", environ=env)
    for name, value in (headers or {}).items():
        req.headers[name] = value
    if body is not None:
        req.body = body
    elif method in ("PUT", "POST"):
        req.content_length = 0
    return req


def to_wsgi_str(text: str) -> str:
    """Text as WSGI carries it in PATH_INFO: its UTF-8 bytes decoded as latin-1."""
    return text.encode("utf-8", "surrogateescape").decode("latin-1")


def from_wsgi_str(raw: str) -> str:
    """A WSGI PATH_INFO (already unquoted by the server) as text; bytes that are not
    UTF-8 stay as surrogates, so name checks can refuse them."""
    return raw.encode("latin-1").decode("utf-8", "surrogateescape")


def _path_parts(environ: Mapping[str, Any]) -> tuple[str, str | None, str | None, str | None]:
    """(version, account, container, object) of the request path (unquoted)."""
    path = from_wsgi_str(environ.get("PATH_INFO", "/"))
    version, account, container, obj = utils.split_path(path, 1, 4, rest_with_last=True)
    return version or "v1", account, container, obj


def container_cache_key(account: str, container: str) -> str:
    return "container/%s/%s" % (account, container)


def account_cache_key(account: str) -> str:
    return "account/%s" % account


def _meta(headers: Mapping[str, str], prefix: str) -> dict[str, str]:
    prefix = prefix.lower()
    return {k.lower()[len(prefix):]: v for k, v in headers.items()
            if k.lower().startswith(prefix)}


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def container_info_from(status: int, headers: Mapping[str, str]) -> dict[str, Any]:
    """The info dict of a container HEAD answer (also used by the proxy itself)."""
    headers = {k.lower(): v for k, v in headers.items()}
    meta = _meta(headers, "x-container-meta-")
    return {
        "status": status,
        "read_acl": headers.get("x-container-read"),
        "write_acl": headers.get("x-container-write"),
        "sync_key": headers.get("x-container-sync-key"),
        "object_count": _int(headers.get("x-container-object-count")),
        "bytes": _int(headers.get("x-container-bytes-used")),
        "versions": headers.get("x-versions-location"),
        "history": headers.get("x-history-location"),
        "meta": meta,
        "sysmeta": _meta(headers, "x-container-sysmeta-"),
        "cors": {
            "allow_origin": meta.get("access-control-allow-origin"),
            "expose_headers": meta.get("access-control-expose-headers"),
            "max_age": meta.get("access-control-max-age"),
        },
        "storage_policy": "0",
    }


def account_info_from(status: int, headers: Mapping[str, str]) -> dict[str, Any]:
    """The info dict of an account HEAD answer (also used by the proxy itself)."""
    headers = {k.lower(): v for k, v in headers.items()}
    return {
        "status": status,
        "container_count": _int(headers.get("x-account-container-count")),
        "object_count": _int(headers.get("x-account-object-count")),
        "bytes": _int(headers.get("x-account-bytes-used")),
        "meta": _meta(headers, "x-account-meta-"),
        "sysmeta": _meta(headers, "x-account-sysmeta-"),
    }


def _cache(environ: Any) -> dict[str, Any]:
    cache = environ.get(INFOCACHE)
    if not isinstance(cache, dict):
        cache = {}
        environ[INFOCACHE] = cache
    return cache


def get_container_info(environ: Any, app: Any, swift_source: str | None = None,
                       fresh: bool = False) -> dict[str, Any]:
    """The info of the container of ``environ``'s path (HEAD through ``app``, cached
    for the request; the proxy may answer from its own cache, see
    :data:`INFO_REQUEST`). With ``fresh`` (the quota filters, for exact counts) the
    answer comes from the storage servers.

    A path without a container gives an info with status 0.
    """
    _version, account, container, _obj = _path_parts(environ)
    if not account or not container:
        return container_info_from(0, {})
    cache = _cache(environ)
    key = container_cache_key(account, container)
    if fresh or key not in cache:
        resp = _info_request(environ, app, "/v1/%s/%s" % (account, container),
                             swift_source, fresh)
        cache[key] = container_info_from(resp.status_int, resp.headers)
    return dict(cache[key])


def get_account_info(environ: Any, app: Any, swift_source: str | None = None,
                     fresh: bool = False) -> dict[str, Any]:
    """The info of the account of ``environ``'s path (as :func:`get_container_info`)."""
    _version, account, _container, _obj = _path_parts(environ)
    if not account:
        return account_info_from(0, {})
    cache = _cache(environ)
    key = account_cache_key(account)
    if fresh or key not in cache:
        resp = _info_request(environ, app, "/v1/%s" % account, swift_source, fresh)
        cache[key] = account_info_from(resp.status_int, resp.headers)
    return dict(cache[key])


def _info_request(environ: Any, app: Any, path: str, swift_source: str | None,
                  fresh: bool) -> webob.Response:
    sub = make_subrequest(environ, "HEAD", path, swift_source=swift_source,
                          pre_authed=True, query="")
    sub.environ[INFO_REQUEST] = "fresh" if fresh else "cached"
    return sub.get_response(app)


def drop_info(environ: Any, account: str, container: str | None = None) -> None:
    """Forget the cached info of a container (or account) this request changes."""
    cache = environ.get(INFOCACHE)
    if isinstance(cache, dict):
        key = (container_cache_key(account, container) if container
               else account_cache_key(account))
        cache.pop(key, None)
