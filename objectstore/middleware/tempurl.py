"""Temporary URLs: an object request signed with a secret key instead of a token.

A client that knows one of the keys of an account (``X-Account-Meta-Temp-URL-Key``
and ``-Key-2``) or of a container (``X-Container-Meta-Temp-URL-Key(-2)``) signs
``<METHOD>\\n<expires>\\n<path>`` with HMAC and hands out::

    /v1/AUTH_a/c/o?temp_url_sig=<signature>&temp_url_expires=<unix time or ISO 8601>

``temp_url_prefix=<p>`` signs ``prefix:/v1/AUTH_a/c/<p>`` instead and is good for
every object whose name starts with ``p``. The signature is a hex digest (its length
tells SHA-1, SHA-256 or SHA-512) or ``<digest>:<base64url>``. A valid temp URL
authorizes the request (``swift.authorize`` becomes a no-op and
``swift.authorize_override`` is set, so the auth middleware lets it pass); any error
in it is a 401. A HEAD may use a signature made for GET, HEAD or PUT.

GET answers get ``Content-Disposition: attachment; filename=…`` (the object name, or
``filename=``); ``inline`` asks for ``inline`` instead.

Options: ``methods`` (``GET HEAD PUT POST DELETE``), ``incoming_remove_headers``
(``x-timestamp``), ``incoming_allow_headers``, ``outgoing_remove_headers``
(``x-object-meta-*``), ``outgoing_allow_headers`` (``x-object-meta-public-*``),
``allowed_digests`` (``sha1 sha256 sha512``).
"""
from __future__ import annotations

import base64
import binascii
import calendar
import functools
import hashlib
import hmac
import time
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, quote

import webob
import webob.exc

from objectstore.common.registry import register_swift_info
from objectstore.middleware.keystoneauth import request_parts
from objectstore.proxy import info

DEFAULT_METHODS = "GET HEAD PUT POST DELETE"
DEFAULT_INCOMING_REMOVE = "x-timestamp"
DEFAULT_OUTGOING_REMOVE = "x-object-meta-*"
DEFAULT_OUTGOING_ALLOW = "x-object-meta-public-*"
DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
_HEX_LENGTHS = {40: "sha1", 64: "sha256", 128: "sha512"}
_ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_PARAMS = ("temp_url_sig", "temp_url_expires", "temp_url_prefix", "filename", "inline")


def parse_expires(value: str) -> int:
    """Seconds since the epoch of ``temp_url_expires`` (int or ``2026-01-02T03:04:05Z``)."""
    try:
        return int(value)
    except ValueError:
        return calendar.timegm(time.strptime(value, _ISO_FORMAT))


def split_signature(sig: str) -> tuple[str, bytes]:
    """(digest name, raw signature) of a hex or ``<digest>:<base64>`` signature."""
    if ":" in sig:
        name, _, encoded = sig.partition(":")
        padded = encoded + "=" * (-len(encoded) % 4)
        try:
            raw = base64.urlsafe_b64decode(
                padded.replace(" ", "-").replace("+", "-").replace("/", "_"))
        except (binascii.Error, ValueError):
            raise ValueError("signature is not base64")
        return name, raw
    name = _HEX_LENGTHS.get(len(sig), "")
    try:
        return name, bytes.fromhex(sig)
    except ValueError:
        raise ValueError("signature is not hex")


def sign(key: str, method: str, expires: int | str, path: str, digest: str = "sha256") -> str:
    """The hex signature of a temp URL (what clients compute; tests use it too)."""
    body = "%s\n%s\n%s" % (method, expires, path)
    return hmac.new(key.encode(), body.encode(), DIGESTS[digest]).hexdigest()


def hmac_matches(key: str, message: str, digest: str, raw: bytes) -> bool:
    """Whether ``raw`` is the HMAC-``digest`` of ``message`` with ``key`` (constant time).

    Shared with formpost, which signs its forms with the same keys.
    """
    mac = hmac.new(key.encode(), message.encode("utf-8", "surrogateescape"),
                   DIGESTS[digest]).digest()
    return hmac.compare_digest(mac, raw)


def temp_url_keys(environ: dict[str, Any], app: Any, account: str, container: str,
                  swift_source: str = "TU") -> list[tuple[str, tuple[str, str | None]]]:
    """The account's and the container's keys (``Temp-URL-Key``, ``-Key-2``) of
    ``environ``'s path, each with its scope: (account, None) or (account, container).

    Shared with formpost, which accepts the same keys.
    """
    found: list[tuple[str, tuple[str, str | None]]] = []
    ainfo = info.get_account_info(environ, app, swift_source)
    cinfo = info.get_container_info(environ, app, swift_source)
    scopes: list[tuple[dict[str, str], tuple[str, str | None]]] = [
        (ainfo.get("meta", {}), (account, None)),
        (cinfo.get("meta", {}), (account, container))]
    for meta, scope in scopes:
        for name in ("temp-url-key", "temp-url-key-2"):
            if meta.get(name):
                found.append((meta[name], scope))
    return found


def _patterns(value: str | None) -> tuple[set[str], list[str]]:
    """(exact names, prefixes of ``*`` patterns) of a header list option."""
    names: set[str] = set()
    prefixes: list[str] = []
    for item in (value or "").lower().split():
        if item.endswith("*"):
            prefixes.append(item[:-1])
        else:
            names.add(item)
    return names, prefixes


class _HeaderFilter:
    """Which headers to drop: listed or matching a pattern, unless explicitly allowed."""

    def __init__(self, remove: str | None, allow: str | None) -> None:
        self.remove = _patterns(remove)
        self.allow = _patterns(allow)

    @staticmethod
    def _matches(name: str, patterns: tuple[set[str], list[str]]) -> bool:
        return name in patterns[0] or any(name.startswith(p) for p in patterns[1])

    def drops(self, name: str) -> bool:
        name = name.lower()
        return self._matches(name, self.remove) and not self._matches(name, self.allow)


class TempURL:
    """The ``tempurl`` filter (see the module docstring)."""

    def __init__(self, app: Any, conf: dict[str, Any]) -> None:
        self.app = app
        self.methods = conf.get("methods", DEFAULT_METHODS).upper().split()
        self.incoming = _HeaderFilter(conf.get("incoming_remove_headers",
                                               DEFAULT_INCOMING_REMOVE),
                                      conf.get("incoming_allow_headers", ""))
        self.outgoing = _HeaderFilter(conf.get("outgoing_remove_headers",
                                               DEFAULT_OUTGOING_REMOVE),
                                      conf.get("outgoing_allow_headers",
                                               DEFAULT_OUTGOING_ALLOW))
        self.digests = [d for d in conf.get("allowed_digests", "sha1 sha256 sha512").split()
                        if d in DIGESTS]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("REQUEST_METHOD") == "OPTIONS":
            return self.app(environ, start_response)
        params = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if "temp_url_sig" not in params and "temp_url_expires" not in params:
            return self.app(environ, start_response)
        req = webob.Request(environ)
        scope = self.validate(req, params)
        if isinstance(scope, str):
            return self.invalid(req, scope)(environ, start_response)
        self.authorize_request(environ, scope)
        disposition = self.disposition(req, params)
        return self.app(environ, self._start_response(start_response, disposition))

    # --- checking ------------------------------------------------------------

    def validate(self, req: webob.Request, params: dict[str, list[str]]
                 ) -> str | tuple[str, str | None]:
        """Why the temp URL is not valid, or the scope of the key that signed it."""
        if any(len(params.get(name, [])) > 1 for name in _PARAMS):
            return "Multiple %s parameters" % "/".join(_PARAMS)
        sig = params.get("temp_url_sig", [""])[0]
        try:
            expires = parse_expires(params.get("temp_url_expires", [""])[0])
        except ValueError:
            return "Invalid temp_url_expires"
        if not sig:
            return "Missing temp_url_sig"
        if expires < time.time():
            return "Temp URL expired"
        if req.method not in self.methods:
            return "Method not allowed for temp URLs"
        try:
            account, container, obj = request_parts(req)
        except ValueError:
            return "Not an object path"
        if not (account and container and obj is not None):
            return "Not an object path"
        prefix = params.get("temp_url_prefix", [None])[0]
        if prefix is not None and not (obj or "").startswith(prefix):
            return "Object name does not start with temp_url_prefix"
        if not obj and prefix is None:
            return "Not an object path"
        if req.method in ("PUT", "POST") and "X-Object-Manifest" in req.headers:
            return "X-Object-Manifest is not allowed with temp URLs"
        signed = ("prefix:/v1/%s/%s/%s" % (account, container, prefix) if prefix is not None
                  else info.from_wsgi_str(req.path_info))
        scope = self.signature_scope(req, sig, expires, signed, account, container)
        return "Temp URL invalid" if scope is None else scope

    def keys(self, req: webob.Request, account: str, container: str
             ) -> list[tuple[str, tuple[str, str | None]]]:
        """The account's and the container's temp URL keys, each with its scope."""
        return temp_url_keys(req.environ, self.app, account, container, "TU")

    def signature_scope(self, req: webob.Request, sig: str, expires: int, path: str,
                        account: str, container: str) -> tuple[str, str | None] | None:
        """(account, container or None) the matching key covers; None if none matches."""
        try:
            digest, raw = split_signature(sig)
        except ValueError:
            return None
        if digest not in self.digests:
            return None
        methods = ["GET", "HEAD", "PUT"] if req.method == "HEAD" else [req.method]
        for key, scope in self.keys(req, account, container):
            for method in methods:
                body = "%s\n%s\n%s" % (method, expires, path)
                if hmac_matches(key, body, digest, raw):
                    return scope
        return None

    def invalid(self, req: webob.Request, reason: str) -> webob.Response:
        """401 (400 for a DLO manifest, which would point at data the URL does not
        cover); HEAD answers without a body."""
        if "X-Object-Manifest" in reason:
            return webob.exc.HTTPBadRequest(body=reason)
        body = "" if req.method == "HEAD" else "Temp URL invalid\n"
        resp = webob.Response(status=401, body=body.encode(), content_type="text/plain",
                              charset=None)
        resp.headers["Www-Authenticate"] = 'Temp URL realm="%s"' % quote(req.path_info)
        return resp

    # --- passing it on ---------------------------------------------------------

    def authorize_request(self, environ: dict[str, Any], scope: tuple[str, str | None]
                          ) -> None:
        """Mark the request authorized and drop headers a temp URL may not set.

        The authorization also covers subrequests (SLO/DLO segments) inside the
        key's scope: its account, or its container for a container key.
        """
        environ["swift.authorize"] = functools.partial(_scoped_authorize, scope)
        environ["swift.authorize_override"] = True
        environ["REMOTE_USER"] = ".wsgi.tempurl"
        environ["swift.source"] = environ.get("swift.source") or "TU"
        for key in [k for k in environ if k.startswith("HTTP_")]:
            if self.incoming.drops(key[5:].replace("_", "-")):
                del environ[key]

    def disposition(self, req: webob.Request, params: dict[str, list[str]]
                    ) -> tuple[str | None, bool]:
        """(Content-Disposition of a GET, whether it replaces the object's own)."""
        if req.method != "GET":
            return None, False
        filename = params.get("filename", [None])[0]
        if "inline" in params:
            return (_disposition("inline", filename) if filename else "inline"), True
        if filename:
            return _disposition("attachment", filename), True
        name = info.from_wsgi_str(req.path_info).rstrip("/").rsplit("/", 1)[-1]
        return _disposition("attachment", name), False

    def _start_response(self, start_response: Any, disposition: tuple[str | None, bool]
                        ) -> Any:
        outgoing = self.outgoing
        value, force = disposition

        def _start(status: str, headers: Iterable[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(k, v) for k, v in headers if not outgoing.drops(k)]
            has_own = any(k.lower() == "content-disposition" for k, _v in kept)
            if value is not None and (force or not has_own):
                kept = [(k, v) for k, v in kept if k.lower() != "content-disposition"]
                kept.append(("Content-Disposition", value))
            return start_response(status, kept, exc_info)
        return _start


def _scoped_authorize(scope: tuple[str, str | None], req: webob.Request) -> Any:
    """None inside the scope of the temp URL's key, else 401."""
    try:
        account, container, _obj = request_parts(req)
    except ValueError:
        account, container = None, None
    if account == scope[0] and (scope[1] is None or container == scope[1]):
        return None
    return webob.exc.HTTPUnauthorized(body="Temp URL invalid\n")


def _disposition(kind: str, filename: str) -> str:
    """``attachment; filename="a b.txt"; filename*=UTF-8''a%20b.txt``."""
    return "%s; filename=\"%s\"; filename*=UTF-8''%s" % (
        kind, quote(filename, safe=" /"), quote(filename))


def filter_factory(global_conf: dict[str, Any], **local_conf: Any
                   ) -> Callable[[Any], TempURL]:
    """Paste entry point; registers ``tempurl`` in /info."""
    conf = dict(global_conf)
    conf.update(local_conf)
    register_swift_info(
        "tempurl",
        methods=conf.get("methods", DEFAULT_METHODS).upper().split(),
        incoming_remove_headers=conf.get("incoming_remove_headers",
                                         DEFAULT_INCOMING_REMOVE).split(),
        incoming_allow_headers=conf.get("incoming_allow_headers", "").split(),
        outgoing_remove_headers=conf.get("outgoing_remove_headers",
                                         DEFAULT_OUTGOING_REMOVE).split(),
        outgoing_allow_headers=conf.get("outgoing_allow_headers",
                                        DEFAULT_OUTGOING_ALLOW).split(),
        allowed_digests=[d for d in conf.get("allowed_digests", "sha1 sha256 sha512").split()
                         if d in DIGESTS])
    return lambda app: TempURL(app, conf)
