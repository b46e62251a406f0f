"""keystoneauth1 sessions and adapters for REST calls between services.

A ``[service_user]``-style group holds the service's own credentials, TLS and
endpoint-selection options. Calls made on behalf of a user carry the user's
token plus a service token (``X-Service-Token``), so a long operation does not
fail when the user's token expires halfway, and they pass the request id on as
``X-OpenStack-Request-ID``.
"""
from __future__ import annotations

import copy
import threading
from typing import Any

from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import plugin as ks_plugin
from keystoneauth1 import service_token
from keystoneauth1 import session as ks_session
from oslo_config import cfg
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

GROUP = "service_user"
DEFAULT_AUTH_TYPE = "password"
DEFAULT_INTERFACES = ["internal", "public"]
REQUEST_ID_HEADER = "X-OpenStack-Request-ID"
USER_AGENT = "stratus"

SEND_SERVICE_TOKEN_OPT = cfg.BoolOpt(
    "send_service_token", default=True,
    help="Send this service's token (X-Service-Token) next to the user's token on "
         "calls made for a user, so a long operation survives the expiry of the "
         "user's token. Related options: the credentials in this group; the "
         "receiving service's keystonemiddleware [keystone_authtoken] "
         "service_token_roles.")

_CACHE_LOCK = threading.Lock()
# (id(conf), group) -> (conf, value); the conf is kept so the id stays unique.
_AUTH_CACHE: dict[tuple[int, str], tuple[cfg.ConfigOpts, ks_plugin.BaseAuthPlugin | None]] = {}
_SESSION_CACHE: dict[tuple[int, str], tuple[cfg.ConfigOpts, ks_session.Session]] = {}


def register_opts(conf: cfg.ConfigOpts, group: str = GROUP) -> None:
    """Register credential, TLS and endpoint options in ``group``.

    Registers keystoneauth's session options (cafile, insecure, timeout …),
    ``auth_type`` (default ``password``) with the password plugin's options
    (auth_url, username, password, project_name, user_domain_name,
    project_domain_name …), the adapter options (region_name, interface,
    valid_interfaces, endpoint_override …) and ``send_service_token``.

    :param conf: the configuration object.
    :param group: the option group, e.g. ``service_user``.
    """
    ks_loading.register_session_conf_options(conf, group)
    ks_loading.register_auth_conf_options(conf, group)
    conf.set_default("auth_type", DEFAULT_AUTH_TYPE, group=group)
    _register_tolerant(conf, group, _default_plugin_opts())
    ks_loading.register_adapter_conf_options(conf, group)
    conf.register_opt(SEND_SERVICE_TOKEN_OPT, group=group)


def list_opts(group: str = GROUP) -> list[tuple[str, list[cfg.Opt]]]:
    """The options :func:`register_opts` registers, for oslo-config-generator.

    :param group: the option group.
    :returns: one ``(group, options)`` pair.
    """
    opts = (ks_loading.get_session_conf_options()
            + ks_loading.get_auth_common_conf_options()
            + _default_plugin_opts()
            + ks_loading.get_adapter_conf_options()
            + [SEND_SERVICE_TOKEN_OPT])
    return [(group, opts)]


def _default_plugin_opts() -> list[cfg.Opt]:
    # Registered up front so they can be set and appear in samples, but not as
    # required: a service that never talks to a neighbour must still start
    # without them. The plugin itself reports what is missing when loaded.
    opts = []
    for opt in ks_loading.get_auth_plugin_conf_options(DEFAULT_AUTH_TYPE):
        opt = copy.copy(opt)
        opt.required = False
        opts.append(opt)
    return opts


def _register_tolerant(conf: cfg.ConfigOpts, group: str, opts: list[cfg.Opt]) -> None:
    # Another plugin (auth_type = v3password …) declares options with the same
    # names and meaning but different help; the first registration wins.
    for opt in opts:
        try:
            conf.register_opt(opt, group=group)
        except cfg.DuplicateOptError:
            pass


def _cached(cache: dict[tuple[int, str], tuple[cfg.ConfigOpts, Any]],
            conf: cfg.ConfigOpts, group: str) -> tuple[bool, Any]:
    entry = cache.get((id(conf), group))
    if entry is not None and entry[0] is conf:
        return True, entry[1]
    return False, None


def load_auth(conf: cfg.ConfigOpts, group: str = GROUP) -> ks_plugin.BaseAuthPlugin | None:
    """The service's own auth plugin from ``group`` (cached, so its token is reused).

    :param conf: the configuration object (``register_opts`` done).
    :param group: the option group.
    :returns: the plugin, or None when ``auth_type`` is empty.
    :raises: keystoneauth1.exceptions.MissingRequiredOptions when e.g.
        ``auth_url`` is unset; NoMatchingPlugin for an unknown ``auth_type``.
    """
    with _CACHE_LOCK:
        found, auth = _cached(_AUTH_CACHE, conf, group)
        if found:
            return auth  # type: ignore[no-any-return]
        auth = _load_auth(conf, group)
        _AUTH_CACHE[(id(conf), group)] = (conf, auth)
        return auth


def _load_auth(conf: cfg.ConfigOpts, group: str) -> ks_plugin.BaseAuthPlugin | None:
    section = conf[group].auth_section or group
    if section != group:
        ks_loading.register_auth_conf_options(conf, group)
    name = conf[section].auth_type
    if not name:
        return None
    _register_tolerant(conf, section, ks_loading.get_auth_plugin_conf_options(name))
    loader: Any = ks_loading.get_plugin_loader(name)
    plugin = loader.load_from_options_getter(lambda opt: conf[section][opt.dest])
    LOG.debug("Loaded %(type)s auth from [%(group)s]", {"type": name, "group": section})
    return plugin  # type: ignore[no-any-return]


def session_for(conf: cfg.ConfigOpts, group: str = GROUP) -> ks_session.Session:
    """A Session authenticated as the service itself (cached per conf and group).

    :param conf: the configuration object (``register_opts`` done).
    :param group: the option group.
    :returns: a keystoneauth Session.
    :raises: keystoneauth1.exceptions.MissingRequiredOptions on incomplete credentials.
    """
    auth = load_auth(conf, group)
    with _CACHE_LOCK:
        found, session = _cached(_SESSION_CACHE, conf, group)
        if found:
            return session  # type: ignore[no-any-return]
        session = ks_loading.load_session_from_conf_options(
            conf, group, auth=auth, user_agent=USER_AGENT)
        _SESSION_CACHE[(id(conf), group)] = (conf, session)
        return session


class ContextAuth(ks_plugin.BaseAuthPlugin):
    """Authenticates as the user of a RequestContext, with the token it carries.

    The user's token cannot be renewed, so ``invalidate`` gives up. Endpoints
    come from ``catalog_auth`` (the service's own plugin): the contexts we
    build do not carry the user's catalog.
    """

    def __init__(self, ctxt: Any, catalog_auth: ks_plugin.BaseAuthPlugin | None) -> None:
        super().__init__()
        self._ctxt = ctxt
        self._catalog_auth = catalog_auth

    def get_token(self, session: ks_session.Session) -> str | None:
        return self._ctxt.auth_token  # type: ignore[no-any-return]

    def get_endpoint_data(self, session: ks_session.Session, **kwargs: Any) -> Any:
        if self._catalog_auth is None:
            return super().get_endpoint_data(session, **kwargs)
        return self._catalog_auth.get_endpoint_data(session, **kwargs)

    def get_user_id(self, session: ks_session.Session) -> str | None:
        return self._ctxt.user_id  # type: ignore[no-any-return]

    def get_project_id(self, session: ks_session.Session) -> str | None:
        return self._ctxt.project_id  # type: ignore[no-any-return]

    def invalidate(self) -> bool:
        return False


def context_auth(conf: cfg.ConfigOpts, ctxt: Any,
                 group: str = GROUP) -> ks_plugin.BaseAuthPlugin | None:
    """The auth plugin for acting on behalf of ``ctxt``'s user.

    With ``send_service_token`` it wraps the user's token and the service's
    token together; a context without a token (a daemon's own admin context)
    acts as the service itself.

    :param conf: the configuration object (``register_opts`` done).
    :param ctxt: the RequestContext (auth_token, user_id, project_id …).
    :param group: the option group holding the service credentials.
    :returns: the auth plugin to attach to a Session or Adapter.
    :raises: keystoneauth1.exceptions.MissingRequiredOptions on incomplete credentials.
    """
    service_auth = load_auth(conf, group)
    if not getattr(ctxt, "auth_token", None):
        return service_auth
    user_auth = ContextAuth(ctxt, service_auth)
    if conf[group].send_service_token and service_auth is not None:
        return service_token.ServiceTokenAuthWrapper(user_auth=user_auth,
                                                     service_auth=service_auth)
    return user_auth


def _request_id(ctxt: Any) -> str | None:
    return getattr(ctxt, "global_id", None) if ctxt is not None else None


def user_session(conf: cfg.ConfigOpts, ctxt: Any, group: str = GROUP) -> ks_session.Session:
    """A Session carrying the user's token, the service token and the request id.

    It shares the connection pool and TLS settings of :func:`session_for`.

    :param conf: the configuration object (``register_opts`` done).
    :param ctxt: the RequestContext of the operation.
    :param group: the option group holding the service credentials.
    :returns: a keystoneauth Session.
    :raises: keystoneauth1.exceptions.MissingRequiredOptions on incomplete credentials.
    """
    base = session_for(conf, group)
    headers = {}
    request_id = _request_id(ctxt)
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    return ks_loading.load_session_from_conf_options(
        conf, group, auth=context_auth(conf, ctxt, group), session=base.session,
        user_agent=USER_AGENT, additional_headers=headers)


def _interfaces(conf: cfg.ConfigOpts, group: str) -> list[str] | str:
    grp = conf[group]
    if grp.valid_interfaces:
        return list(grp.valid_interfaces)
    if grp.interface:
        return str(grp.interface)
    return list(DEFAULT_INTERFACES)


def adapter(conf: cfg.ConfigOpts, group: str, service_type: str, ctxt: Any = None,
            **kwargs: Any) -> ks_adapter.Adapter:
    """An Adapter for ``service_type``, its endpoint found in the catalog.

    Without ``ctxt`` it acts as the service; with it, as the context's user
    (plus the service token) and it forwards the request id.

    :param conf: the configuration object (``register_opts`` done on ``group``).
    :param group: the option group (credentials and region/interface/endpoint_override).
    :param service_type: catalog type, e.g. ``image``, ``network``, ``volumev3``.
    :param ctxt: the RequestContext to act for, if any.
    :param kwargs: further Adapter arguments (min_version, raise_exc …).
    :returns: a keystoneauth Adapter.
    :raises: keystoneauth1.exceptions.MissingRequiredOptions on incomplete
        credentials; TypeError on contradictory interface options.
    """
    kwargs.setdefault("interface", _interfaces(conf, group))
    kwargs.setdefault("client_name", USER_AGENT)
    if ctxt is not None:
        kwargs.setdefault("auth", context_auth(conf, ctxt, group))
        kwargs.setdefault("global_request_id", _request_id(ctxt))
    return ks_loading.load_adapter_from_conf_options(
        conf, group, session=session_for(conf, group), service_type=service_type,
        **kwargs)


def reset() -> None:
    """Forget cached plugins and sessions (after a config reload, in tests)."""
    with _CACHE_LOCK:
        _AUTH_CACHE.clear()
        _SESSION_CACHE.clear()
