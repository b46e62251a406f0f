"""Authorization of object store requests from Keystone identities.

Runs after keystonemiddleware's ``auth_token`` (with ``delay_auth_decision =
true``), which leaves the identity of a valid token in ``HTTP_X_*`` headers and
marks the others ``Invalid``. This filter does not answer by itself: it puts an
``authorize(req)`` callable in ``environ['swift.authorize']``, and the proxy calls
it once it knows the container ACL (``req.acl``).

Decision (the account ``<reseller_prefix><project_id>`` belongs to that project):

1. a user with ``reseller_admin_role`` may do anything, in every account;
2. nobody but a reseller admin may DELETE an account;
3. a container ACL grant ``project:user`` (ids, or names when allowed; ``*``
   matches any) admits the user;
4. a referrer rule admits anyone to objects, and to listings with ``.rlistings``;
5. otherwise the account must belong to the user's project, and a user with an
   operator role there (plus a service role from ``X-Service-Token`` when the
   prefix has ``service_roles``) owns it (``environ['swift_owner']``);
6. else a role named in the ACL admits the user.

Denials are 401 for anonymous requests and 403 for identified ones.

Options (paste ``local_conf``): ``reseller_prefix`` (``AUTH_``; a comma separated
list for several), ``operator_roles`` (``admin, member``), ``service_roles`` (none),
per prefix ``<prefix>operator_roles`` / ``<prefix>service_roles``,
``reseller_admin_role`` (``ResellerAdmin``), ``allow_overrides`` (true),
``default_domain_id`` (``default``), ``allow_names_in_acls`` (true),
``www_authenticate_uri`` (optional; auth_token adds its own header on 401 anyway).
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable

import webob
import webob.exc

from objectstore.common import utils
from objectstore.common.registry import register_swift_info
from objectstore.middleware import acl
from objectstore.proxy import info

Authorize = Callable[[webob.Request], Any]

_TRUE = ("true", "1", "yes", "on", "t", "y")


def config_true(value: Any) -> bool:
    """Paste options arrive as strings; this reads them as booleans."""
    return value is True or str(value).strip().lower() in _TRUE


def list_option(value: str | None) -> list[str]:
    """A comma separated option as a list of stripped, non-empty items."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def normalize_prefix(prefix: str) -> str:
    """``AUTH`` -> ``AUTH_`` (an empty prefix stays empty), as Swift spells prefixes."""
    prefix = prefix.strip().strip("'\"")
    return prefix if not prefix or prefix.endswith("_") else prefix + "_"


def request_parts(req: webob.Request) -> tuple[str | None, str | None, str | None]:
    """(account, container, object) of a ``/v1/a/c/o`` request; ValueError if not."""
    path = info.from_wsgi_str(req.environ.get("PATH_INFO", "/"))
    _version, account, container, obj = utils.split_path(path, 1, 4, rest_with_last=True)
    return account, container, obj


@dataclasses.dataclass
class Identity:
    """Who sent the request, as auth_token tells."""

    user_id: str
    user_name: str
    project_id: str
    project_name: str
    user_domain_id: str | None
    project_domain_id: str | None
    roles: list[str]
    service_roles: list[str]


def identity_from_environ(environ: dict[str, Any]) -> Identity | None:
    """The confirmed identity of the request (None without a valid token)."""
    if environ.get("HTTP_X_IDENTITY_STATUS") != "Confirmed":
        return None
    service_roles: list[str] = []
    if environ.get("HTTP_X_SERVICE_IDENTITY_STATUS") == "Confirmed":
        service_roles = list_option(environ.get("HTTP_X_SERVICE_ROLES"))
    project_id = environ.get("HTTP_X_PROJECT_ID") or environ.get("HTTP_X_TENANT_ID") or ""
    return Identity(
        user_id=environ.get("HTTP_X_USER_ID", ""),
        user_name=environ.get("HTTP_X_USER_NAME") or environ.get("HTTP_X_USER", ""),
        project_id=project_id,
        project_name=(environ.get("HTTP_X_PROJECT_NAME")
                      or environ.get("HTTP_X_TENANT_NAME", "")),
        user_domain_id=environ.get("HTTP_X_USER_DOMAIN_ID"),
        project_domain_id=environ.get("HTTP_X_PROJECT_DOMAIN_ID"),
        roles=[r.lower() for r in list_option(environ.get("HTTP_X_ROLES"))],
        service_roles=[r.lower() for r in service_roles],
    )


class KeystoneAuth:
    """The ``keystoneauth`` filter (see the module docstring)."""

    def __init__(self, app: Any, conf: dict[str, Any]) -> None:
        self.app = app
        prefixes = list_option(conf.get("reseller_prefix", "AUTH_"))
        self.reseller_prefixes = [normalize_prefix(p) for p in prefixes] or ["AUTH_"]
        default_ops = list_option(conf.get("operator_roles", "admin, member"))
        default_svc = list_option(conf.get("service_roles"))
        self.operator_roles: dict[str, set[str]] = {}
        self.service_roles: dict[str, set[str]] = {}
        for prefix in self.reseller_prefixes:
            ops = conf.get("%soperator_roles" % prefix)
            svc = conf.get("%sservice_roles" % prefix)
            self.operator_roles[prefix] = {
                r.lower() for r in (list_option(ops) if ops is not None else default_ops)}
            self.service_roles[prefix] = {
                r.lower() for r in (list_option(svc) if svc is not None else default_svc)}
        self.reseller_admin_role = conf.get("reseller_admin_role", "ResellerAdmin").lower()
        self.allow_overrides = config_true(conf.get("allow_overrides", "true"))
        self.default_domain_id = conf.get("default_domain_id", "default")
        self.allow_names_in_acls = config_true(conf.get("allow_names_in_acls", "true"))
        self.www_authenticate_uri = conf.get("www_authenticate_uri")

    # --- the filter --------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.allow_overrides and environ.get("swift.authorize_override"):
            return self.app(environ, start_response)
        if "swift.authorize" in environ and not self._claims(environ):
            return self.app(environ, start_response)  # another auth system's account
        identity = identity_from_environ(environ)
        if identity is not None:
            environ["REMOTE_USER"] = identity.project_id
            environ["keystone.identity"] = dataclasses.asdict(identity)
            environ["swift.authorize"] = functools.partial(self.authorize, identity)
            if self.reseller_admin_role in identity.roles:
                environ["reseller_request"] = True
        else:
            environ["swift.authorize"] = self.authorize_anonymous
        environ["swift.clean_acl"] = acl.clean_acl
        return self.app(environ, start_response)

    def _claims(self, environ: dict[str, Any]) -> bool:
        """Whether the request's account has one of our reseller prefixes."""
        try:
            account = request_parts(webob.Request(environ))[0]
        except ValueError:
            return False
        return account is not None and self.prefix_of(account) is not None

    def prefix_of(self, account: str) -> str | None:
        """The longest of our reseller prefixes ``account`` starts with."""
        matches = [p for p in self.reseller_prefixes if account.startswith(p)]
        return max(matches, key=len) if matches else None

    def denied_response(self, req: webob.Request) -> webob.Response:
        """403 to an identified user, 401 (authenticate first) to anyone else."""
        if req.remote_user:
            return webob.exc.HTTPForbidden(body="Forbidden")
        resp = webob.exc.HTTPUnauthorized(body="Unauthorized")
        if self.www_authenticate_uri:
            resp.headers["Www-Authenticate"] = 'Keystone uri="%s"' % self.www_authenticate_uri
        return resp

    # --- decisions ---------------------------------------------------------

    def authorize(self, identity: Identity, req: webob.Request) -> Any:
        """``swift.authorize`` of a request with a confirmed identity."""
        req.environ["swift_owner"] = False
        if req.method == "OPTIONS":
            return None
        try:
            account, container, obj = request_parts(req)
        except ValueError:
            return webob.exc.HTTPNotFound()
        if self.reseller_admin_role in identity.roles:
            req.environ["swift_owner"] = True
            return None
        if account is None or (container is None and req.method == "DELETE"):
            return self.denied_response(req)
        prefix = self.prefix_of(account)
        own_account = prefix is not None and account == prefix + identity.project_id
        # The owner first: a public (referrer) ACL must not hide its ACL headers
        # from the owner (the proxy shows them only to swift_owner).
        if own_account and prefix is not None and self.is_operator(identity, prefix):
            req.environ["swift_owner"] = True
            return None
        referrers, grants = acl.parse_acl(getattr(req, "acl", None))
        if grants and self.cross_project_grant(identity, grants) is not None:
            return None
        by_referrer = referrer_decision(req, obj, referrers, grants)
        if by_referrer:
            return None
        if not own_account:
            return self.denied_response(req)
        if by_referrer is None and set(identity.roles) & {g.lower() for g in grants}:
            return None
        return self.denied_response(req)

    def authorize_anonymous(self, req: webob.Request) -> Any:
        """``swift.authorize`` without a valid token: only referrer rules can admit."""
        req.environ["swift_owner"] = False
        try:
            account, _container, obj = request_parts(req)
        except ValueError:
            return webob.exc.HTTPNotFound()
        if req.method == "OPTIONS":
            return None
        if account is None or self.prefix_of(account) is None:
            return self.denied_response(req)
        referrers, grants = acl.parse_acl(getattr(req, "acl", None))
        if referrer_decision(req, obj, referrers, grants):
            return None
        return self.denied_response(req)

    def is_operator(self, identity: Identity, prefix: str) -> bool:
        """Operator role on the project, plus a service role when the prefix wants one."""
        if not set(identity.roles) & self.operator_roles[prefix]:
            return False
        wanted = self.service_roles[prefix]
        return not wanted or bool(set(identity.service_roles) & wanted)

    def names_allowed(self, identity: Identity) -> bool:
        """Names in ACLs are unambiguous only inside the default domain."""
        return (self.allow_names_in_acls
                and identity.user_domain_id in (None, self.default_domain_id)
                and identity.project_domain_id in (None, self.default_domain_id))

    def cross_project_grant(self, identity: Identity, grants: list[str]) -> str | None:
        """The first ``project:user`` grant that names this user, if any."""
        users = [identity.user_id, "*"]
        projects = [identity.project_id, "*"]
        if self.names_allowed(identity):
            users.insert(1, identity.user_name)
            projects.insert(1, identity.project_name)
        wanted = {"%s:%s" % (p, u) for p in projects for u in users if p and u}
        for grant in grants:
            if grant in wanted:
                return grant
        return None


def referrer_decision(req: webob.Request, obj: str | None, referrers: list[str],
                      grants: list[str]) -> bool | None:
    """True when the referrer rules admit the request, False when they match but the
    request is a listing without ``.rlistings``, None when they do not match."""
    if not referrer_allowed_for(req, referrers):
        return None
    return bool(obj) or acl.LISTINGS in grants


def referrer_allowed_for(req: webob.Request, referrers: list[str]) -> bool:
    return bool(referrers) and acl.referrer_allowed(req.referer, referrers)


def filter_factory(global_conf: dict[str, Any], **local_conf: Any
                   ) -> Callable[[Any], KeystoneAuth]:
    """Paste entry point; options come from the filter's section of the paste ini."""
    conf = dict(global_conf)
    conf.update(local_conf)
    register_swift_info("keystoneauth")
    return lambda app: KeystoneAuth(app, conf)
