"""A self-contained auth system for a standalone object store (no Keystone).

Users come from the filter's options::

    user_<account>_<user> = <key> [group …] [.admin] [.reseller_admin] [storage_url]
    user64_<b64 account>_<b64 user> = …   (names with underscores, base64 without =)

``GET /auth/v1.0`` (also ``/v1.0`` and ``/auth/v1/<account>/auth``) with
``X-Auth-User: account:user`` and ``X-Auth-Key`` (or ``X-Storage-User`` /
``X-Storage-Pass``) answers 200 with ``X-Auth-Token``, ``X-Storage-Token``,
``X-Storage-Url`` and ``X-Auth-Token-Expires``; requests then carry the token in
``X-Auth-Token`` (or ``X-Storage-Token``).

Tokens (``AUTH_tk…``) live in this process's memory: tempauth is meant for a single
proxy process (tests, development, all-in-one). Behind several proxies each one only
knows the tokens it issued.

A user's groups are ``account``, ``account:user``, the configured groups, the storage
account (``AUTH_account``) for ``.admin`` users and ``.reseller_admin``. Owners of an
account (its ``.admin`` users) and reseller admins may do anything there (but only a
reseller admin may PUT or DELETE the account itself); others need a group in the
container ACL, a referrer rule, or an account ACL (``X-Account-Access-Control``).
"""
from __future__ import annotations

import base64
import binascii
import hmac
import json
import threading
import time
import uuid
from typing import Any, Callable

import webob
import webob.exc

from objectstore.common.registry import register_swift_info
from objectstore.middleware import acl
from objectstore.middleware.keystoneauth import (config_true, list_option, normalize_prefix,
                                                 request_parts)
from objectstore.proxy import info


class User:
    """One configured user."""

    def __init__(self, account: str, name: str, key: str, groups: list[str],
                 url: str | None) -> None:
        self.account = account
        self.name = name
        self.key = key
        self.groups = groups
        self.url = url


def _b64name(value: str) -> str:
    padded = value + "=" * (-len(value) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")


def parse_users(conf: dict[str, Any]) -> dict[str, User]:
    """``{"account:user": User}`` of the ``user_*``/``user64_*`` options."""
    users: dict[str, User] = {}
    for option, value in conf.items():
        if not option.startswith(("user_", "user64_")):
            continue
        names = option.split("_", 1)[1].split("_")
        if len(names) != 2:
            raise ValueError("%s: expected user_<account>_<user>" % option)
        account, name = names
        if option.startswith("user64_"):
            try:
                account, name = _b64name(account), _b64name(name)
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise ValueError("%s: names are not base64" % option)
        words = str(value).split()
        if not words:
            raise ValueError("%s: no key" % option)
        url = words.pop() if len(words) > 1 and "://" in words[-1] else None
        users["%s:%s" % (account, name)] = User(account, name, words[0], words[1:], url)
    return users


class TokenStore:
    """Issued tokens and their expiry, shared by the threads of one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[float, str]] = {}  # token -> (expires, groups)
        self._by_user: dict[str, str] = {}  # account:user -> its current token

    def issue(self, user: str, groups: str, life: float) -> tuple[str, float]:
        """The user's unexpired token (reused) or a new one; (token, expires)."""
        now = time.time()
        with self._lock:
            token = self._by_user.get(user)
            entry = self._tokens.get(token) if token else None
            if token and entry and entry[0] > now and entry[1] == groups:
                return token, entry[0]
            self._purge(now)
            token = "AUTH_tk" + uuid.uuid4().hex
            self._tokens[token] = (now + life, groups)
            self._by_user[user] = token
            return token, now + life

    def groups(self, token: str) -> str | None:
        """The groups of a valid token (None when unknown or expired)."""
        with self._lock:
            entry = self._tokens.get(token)
            if entry is None or entry[0] <= time.time():
                return None
            return entry[1]

    def _purge(self, now: float) -> None:
        for token in [t for t, (exp, _g) in self._tokens.items() if exp <= now]:
            del self._tokens[token]
        for user in [u for u, t in self._by_user.items() if t not in self._tokens]:
            del self._by_user[user]


class TempAuth:
    """The ``tempauth`` filter (see the module docstring)."""

    def __init__(self, app: Any, conf: dict[str, Any]) -> None:
        self.app = app
        self.reseller_prefix = normalize_prefix(conf.get("reseller_prefix", "AUTH"))
        self.auth_prefix = "/" + conf.get("auth_prefix", "/auth/").strip("/") + "/"
        self.token_life = float(conf.get("token_life", 86400))
        self.allow_overrides = config_true(conf.get("allow_overrides", "true"))
        self.storage_url_scheme = conf.get("storage_url_scheme", "default")
        self.users = parse_users(conf)
        self.tokens = TokenStore()

    # --- the filter --------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.allow_overrides and environ.get("swift.authorize_override"):
            return self.app(environ, start_response)
        path = environ.get("PATH_INFO", "")
        if path.startswith(self.auth_prefix) or path == "/v1.0":
            return self.handle_login(webob.Request(environ))(environ, start_response)
        token = environ.get("HTTP_X_AUTH_TOKEN") or environ.get("HTTP_X_STORAGE_TOKEN")
        if token and token.startswith(self.reseller_prefix + "tk"):
            groups = self.tokens.groups(token)
            if groups is None:
                return self.unauthorized(webob.Request(environ))(environ, start_response)
            environ["REMOTE_USER"] = groups
            environ["swift.authorize"] = self.authorize
            environ["swift.clean_acl"] = acl.clean_acl
            if ".reseller_admin" in groups.split(","):
                environ["reseller_request"] = True
        elif self._is_ours(environ):
            environ["swift.authorize"] = self.authorize
            environ["swift.clean_acl"] = acl.clean_acl
        elif "swift.authorize" not in environ:
            environ["swift.authorize"] = self.denied_response
        bad = self._check_account_acl_header(webob.Request(environ))
        if bad is not None:
            return bad(environ, start_response)
        return self.app(environ, self._owner_headers(environ, start_response))

    def _is_ours(self, environ: dict[str, Any]) -> bool:
        try:
            account = request_parts(webob.Request(environ))[0]
        except ValueError:
            return False
        return bool(account and account.startswith(self.reseller_prefix))

    # --- login -------------------------------------------------------------

    def handle_login(self, req: webob.Request) -> webob.Response:
        """Check the credentials and answer with a token and the storage URL."""
        if req.method != "GET":
            return webob.exc.HTTPBadRequest()
        parts = [p for p in req.path_info.split("/") if p]
        if len(parts) == 4 and parts[1] == "v1" and parts[3] == "auth":
            account_in_path: str | None = parts[2]
        elif parts in (["auth", "v1.0"], ["v1.0"], ["auth", "auth"]):
            account_in_path = None
        else:
            return webob.exc.HTTPBadRequest()
        user = req.headers.get("X-Auth-User") or req.headers.get("X-Storage-User") or ""
        key = req.headers.get("X-Auth-Key") or req.headers.get("X-Storage-Pass") or ""
        if account_in_path and ":" not in user:
            user = "%s:%s" % (account_in_path, user)
        record = self.users.get(user)
        if record is None or not key or not hmac.compare_digest(record.key, key) \
                or (account_in_path and record.account != account_in_path):
            return self.unauthorized(req)
        token, expires = self.tokens.issue(user, self.groups_of(record), self.token_life)
        url = self.storage_url(req, record)
        resp = webob.Response(status=200, content_type="application/json", charset=None,
                              body=json.dumps({"storage": {"default": "local",
                                                           "local": url}}).encode())
        resp.headers["X-Auth-Token"] = token
        resp.headers["X-Storage-Token"] = token
        resp.headers["X-Storage-Url"] = url
        resp.headers["X-Auth-Token-Expires"] = str(max(0, int(expires - time.time())))
        return resp

    def storage_account(self, record: User) -> str:
        if record.url:
            return record.url.rstrip("/").rsplit("/", 1)[-1]
        return self.reseller_prefix + record.account

    def storage_url(self, req: webob.Request, record: User) -> str:
        host = req.host_url.split("://", 1)[-1]  # without a default port
        if record.url:
            return record.url.replace("$HOST", host)
        scheme = req.scheme if self.storage_url_scheme == "default" else self.storage_url_scheme
        return "%s://%s/v1/%s" % (scheme, host, self.storage_account(record))

    def groups_of(self, record: User) -> str:
        """REMOTE_USER of the user: account, account:user, groups (.admin -> storage
        account)."""
        groups = [record.account, "%s:%s" % (record.account, record.name)]
        for group in record.groups:
            groups.append(self.storage_account(record) if group == ".admin" else group)
        return ",".join(dict.fromkeys(groups))

    # --- decisions ---------------------------------------------------------

    def unauthorized(self, req: webob.Request) -> webob.Response:
        try:
            realm = request_parts(req)[0] or "unknown"
        except ValueError:
            realm = "unknown"
        resp = webob.exc.HTTPUnauthorized(body="Unauthorized")
        resp.headers["Www-Authenticate"] = 'Swift realm="%s"' % realm
        return resp

    def denied_response(self, req: webob.Request) -> webob.Response:
        """403 to a logged-in user, 401 to an anonymous one."""
        if req.remote_user:
            return webob.exc.HTTPForbidden(body="Forbidden")
        return self.unauthorized(req)

    def authorize(self, req: webob.Request) -> Any:
        """``swift.authorize``: owners, reseller admins, then ACLs decide."""
        req.environ["swift_owner"] = False
        try:
            account, container, obj = request_parts(req)
        except ValueError:
            return webob.exc.HTTPNotFound()
        if not account or not account.startswith(self.reseller_prefix):
            return self.denied_response(req)
        groups = [g for g in (req.remote_user or "").split(",") if g]
        if ".reseller_admin" in groups:
            req.environ["swift_owner"] = True
            return self._accept_account_acl(req, account, container)
        if account in groups and (container or req.method not in ("PUT", "DELETE")):
            req.environ["swift_owner"] = True
            return self._accept_account_acl(req, account, container)
        if req.method == "OPTIONS":
            return None
        referrers, grants = acl.parse_acl(getattr(req, "acl", None))
        if referrers and acl.referrer_allowed(req.referer, referrers):
            if obj or acl.LISTINGS in grants:
                return None
            return self.denied_response(req)
        if not groups:
            return self.denied_response(req)
        if set(groups) & set(grants):
            return None
        return self._by_account_acl(req, groups, container)

    def _by_account_acl(self, req: webob.Request, groups: list[str],
                        container: str | None) -> Any:
        """The account ACL's word on a logged-in user the container ACL did not admit."""
        try:
            sysmeta = info.get_account_info(req.environ, self.app, "TA")["sysmeta"]
            account_acl = acl.parse_account_acl(sysmeta.get("core-access-control"))
        except ValueError:
            account_acl = None
        if not account_acl:
            return self.denied_response(req)
        mine = set(groups)
        if mine & set(account_acl["admin"]):
            req.environ["swift_owner"] = True
            return None
        if mine & set(account_acl["read-write"]) and (container or req.method in ("GET", "HEAD")):
            return None
        if mine & set(account_acl["read-only"]) and req.method in ("GET", "HEAD"):
            return None
        return self.denied_response(req)

    # --- account ACLs on the wire ------------------------------------------

    def _check_account_acl_header(self, req: webob.Request) -> webob.Response | None:
        """400 for an account PUT/POST whose X-Account-Access-Control is not valid."""
        value = req.headers.get(acl.ACCOUNT_ACL_HEADER)
        if value is None or req.method not in ("PUT", "POST"):
            return None
        try:
            if request_parts(req)[1] is not None:
                return None  # not an account request: the header means nothing
            acl.parse_account_acl(value)
        except ValueError as err:
            return webob.exc.HTTPBadRequest(body="Invalid ACL: %s" % err)
        return None

    def _accept_account_acl(self, req: webob.Request, account: str,
                            container: str | None) -> None:
        """An owner's X-Account-Access-Control becomes account sysmeta (the only place
        the account server keeps it); the header itself is dropped."""
        value = req.headers.get(acl.ACCOUNT_ACL_HEADER)
        if value is None or container or req.method not in ("PUT", "POST"):
            return None
        parsed = acl.parse_account_acl(value)
        req.headers[acl.ACCOUNT_ACL_SYSMETA] = acl.format_account_acl(parsed) if parsed else ""
        del req.headers[acl.ACCOUNT_ACL_HEADER]
        info.drop_info(req.environ, account)
        return None

    def _owner_headers(self, environ: dict[str, Any], start_response: Any) -> Any:
        """Show owners their account ACL (from sysmeta) as X-Account-Access-Control."""
        sysmeta = acl.ACCOUNT_ACL_SYSMETA.lower()

        def _start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            found = [v for k, v in headers if k.lower() == sysmeta]
            headers = [(k, v) for k, v in headers if k.lower() != sysmeta]
            if found and found[0] and environ.get("swift_owner"):
                headers.append((acl.ACCOUNT_ACL_HEADER, found[0]))
            return start_response(status, headers, exc_info)
        return _start


def filter_factory(global_conf: dict[str, Any], **local_conf: Any
                   ) -> Callable[[Any], TempAuth]:
    """Paste entry point; users and options come from the paste ini section."""
    conf = dict(global_conf)
    conf.update(local_conf)
    auth = conf.get("reseller_prefix", "AUTH")
    register_swift_info("tempauth", account_acls=True,
                        reseller_prefixes=[normalize_prefix(p) for p in list_option(auth)])
    return lambda app: TempAuth(app, conf)
