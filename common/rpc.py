"""oslo.messaging plumbing: transports, clients, servers, context serializer, notifier.

Every daemon calls :func:`init` once after parsing its configuration; ``rpcapi.py``
modules then build clients with :func:`get_client` and ``RPCService`` builds the
server with :func:`get_server`. Only the threading executor is used (no eventlet).
"""
from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import warnings

# oslo.messaging imports oslo.service, which imports (never uses) eventlet;
# eventlet's deprecation notice would open every daemon's log. We use threads.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import oslo_messaging  # noqa: E402
from oslo_config import cfg  # noqa: E402
from oslo_log import log as logging  # noqa: E402
from oslo_messaging import opts as messaging_opts  # noqa: E402

from common import context, exception  # noqa: E402

LOG = logging.getLogger(__name__)

# Failures that mean "the daemon behind this did not answer": the API is
# unavailable for now (503), the request was not wrong.
UNAVAILABLE = (oslo_messaging.MessagingTimeout, oslo_messaging.MessageDeliveryFailure)

# Every RPC call carries an explicit timeout; long operations use the long one
# together with a call monitor so a dead server is still noticed quickly.
DEFAULT_CALL_TIMEOUT = 60
LONG_CALL_TIMEOUT = 1800
CALL_MONITOR_TIMEOUT = 30

UPGRADE_LEVELS_GROUP = "upgrade_levels"
NOTIFICATIONS_GROUP = "oslo_messaging_notifications"
DEFAULT_NOTIFICATION_DRIVER = "messagingv2"
BASE_EXMODS = ["common.exception"]

# oslo.messaging registers these two groups on the global CONF only, at import
# time; a private ConfigOpts needs them too or call()/cast() fail with
# NoSuchOptError (our environment notes, oslo.messaging >= 17).
_PRIVATE_OPT_LISTS = [
    ("oslo_messaging._tracing.client", "oslo_messaging_tracing", "oslo_messaging_tracing"),
    ("oslo_messaging._metrics.client", "oslo_messaging_metrics", "oslo_messaging_metrics"),
]

# Context attributes that oslo.context's to_dict() leaves out but that must
# survive the trip: names for logs and policy, the service token identity.
_NAME_KEYS = ("user_name", "project_name", "domain_name", "user_domain_name",
              "project_domain_name")
_SERVICE_KEYS = ("service_token", "service_user_id", "service_user_name",
                 "service_user_domain_id", "service_user_domain_name",
                 "service_project_id", "service_project_name",
                 "service_project_domain_id", "service_project_domain_name",
                 "service_roles")


class InvalidUpgradeLevel(exception.Error):
    msg_fmt = ("[upgrade_levels] %(daemon)s = %(value)s is neither a known release, "
               "'auto' nor a version like '1.4'.")


@dataclass
class _State:
    conf: cfg.ConfigOpts | None = None
    transport: oslo_messaging.Transport | None = None
    notification_transport: oslo_messaging.Transport | None = None
    exmods: list[str] = field(default_factory=lambda: list(BASE_EXMODS))
    publisher: str = "stratus"
    notifiers: dict[str, oslo_messaging.Notifier] = field(default_factory=dict)


_STATE = _State()
_LOCK = threading.Lock()


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register oslo.messaging's options (``[DEFAULT] transport_url`` …) on ``conf``.

    Safe to call more than once and on the global CONF.

    :param conf: the configuration object the daemon uses.
    """
    for group, opts in messaging_opts.list_opts():
        conf.register_opts(opts, group=group)
    for module_name, attr, group in _PRIVATE_OPT_LISTS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # older oslo.messaging without tracing/metrics
            continue
        opts = getattr(module, attr, None)
        if opts:
            conf.register_opts(opts, group=group)
    conf.set_default("driver", [DEFAULT_NOTIFICATION_DRIVER], group=NOTIFICATIONS_GROUP)


def allowed_remote_exmods(extra: list[str] | None = None) -> list[str]:
    """Modules whose exceptions a caller re-raises with their real type.

    :param extra: service exception modules (``["compute.exception"]``).
    :returns: ``common.exception`` followed by ``extra``, without duplicates.
    """
    mods = list(BASE_EXMODS)
    for mod in extra or []:
        if mod not in mods:
            mods.append(mod)
    return mods


def init(conf: cfg.ConfigOpts, exmods: list[str] | None = None,
         publisher: str = "stratus") -> None:
    """Build the RPC and notification transports from ``conf``.

    :param conf: parsed configuration (``[DEFAULT] transport_url``,
        ``[oslo_messaging_notifications]``).
    :param exmods: the service's exception modules, allowed to cross RPC.
    :param publisher: service name used in default notification publisher ids.
    :raises: oslo_messaging.InvalidTransportURL on a malformed URL.
    """
    register_opts(conf)
    mods = allowed_remote_exmods(exmods)
    with _LOCK:
        if _STATE.transport is not None:
            LOG.debug("RPC already initialised; re-initialising")
            _cleanup_locked()
        _STATE.conf = conf
        _STATE.exmods = mods
        _STATE.publisher = publisher
        _STATE.transport = oslo_messaging.get_rpc_transport(
            conf, allowed_remote_exmods=mods)
        _STATE.notification_transport = oslo_messaging.get_notification_transport(
            conf, allowed_remote_exmods=mods)
    LOG.info("RPC initialised (exception modules %(mods)s)", {"mods": mods})


def cleanup() -> None:
    """Close both transports; safe to call when :func:`init` never ran."""
    with _LOCK:
        _cleanup_locked()


def _cleanup_locked() -> None:
    for transport in (_STATE.transport, _STATE.notification_transport):
        if transport is not None:
            transport.cleanup()
    _STATE.transport = None
    _STATE.notification_transport = None
    _STATE.notifiers.clear()
    _STATE.conf = None


def initialized() -> bool:
    """:returns: whether :func:`init` ran and :func:`cleanup` did not since."""
    return _STATE.transport is not None


def get_transport() -> oslo_messaging.Transport:
    """:returns: the RPC transport.

    :raises: RuntimeError when :func:`init` was not called.
    """
    transport = _STATE.transport
    if transport is None:
        raise RuntimeError("common.rpc.init() must be called before using RPC")
    return transport


class RequestContextSerializer(oslo_messaging.Serializer):
    """Sends our RequestContext as a dict and rebuilds it on the other side.

    Rebuilding stores the context in the server thread, so oslo.log puts the
    caller's request id on every line the server logs while handling it.
    """

    def __init__(self, base: oslo_messaging.Serializer | None = None) -> None:
        self._base = base or oslo_messaging.NoOpSerializer()

    def serialize_entity(self, ctxt: Any, entity: Any) -> Any:
        return self._base.serialize_entity(ctxt, entity)

    def deserialize_entity(self, ctxt: Any, entity: Any) -> Any:
        return self._base.deserialize_entity(ctxt, entity)

    def serialize_context(self, ctxt: Any) -> dict[str, Any]:
        if ctxt is None:
            return {}
        if isinstance(ctxt, Mapping):
            return dict(ctxt)
        values: dict[str, Any] = dict(ctxt.to_dict())
        for key in _NAME_KEYS + _SERVICE_KEYS:
            values[key] = getattr(ctxt, key, None)
        return values

    def deserialize_context(self, ctxt: dict[str, Any]) -> context.RequestContext:
        values = dict(ctxt or {})
        extra = {key: values.get(key) for key in _SERVICE_KEYS if key in values}
        return context.RequestContext.from_dict(values, **extra)


def get_client(target: oslo_messaging.Target, version_cap: str | None = None,
               serializer: oslo_messaging.Serializer | None = None,
               timeout: float = DEFAULT_CALL_TIMEOUT) -> oslo_messaging.RPCClient:
    """Build an RPC client on the transport from :func:`init`.

    :param target: topic (and optionally server, fanout) plus the base version.
    :param version_cap: highest version the client may send (see :func:`version_cap`).
    :param serializer: payload serializer wrapped by :class:`RequestContextSerializer`.
    :param timeout: default call timeout in seconds; ``prepare(timeout=...)``
        overrides it per call.
    :returns: an oslo.messaging RPCClient.
    :raises: RuntimeError when :func:`init` was not called.
    """
    return oslo_messaging.get_rpc_client(
        get_transport(), target, version_cap=version_cap,
        serializer=RequestContextSerializer(serializer), timeout=timeout)


def prepare_long(client: oslo_messaging.RPCClient, **kwargs: Any) -> Any:
    """Prepare ``client`` for a long call: long timeout plus a call monitor.

    :param client: the RPC client.
    :param kwargs: other ``prepare`` arguments (version, server, …).
    :returns: the prepared call context.
    """
    kwargs.setdefault("timeout", LONG_CALL_TIMEOUT)
    kwargs.setdefault("call_monitor_timeout", CALL_MONITOR_TIMEOUT)
    return client.prepare(**kwargs)


def get_server(target: oslo_messaging.Target, endpoints: list[Any],
               serializer: oslo_messaging.Serializer | None = None) -> Any:
    """Build an RPC server (threading executor, private methods not callable).

    :param target: topic and server name to listen on.
    :param endpoints: objects whose public methods are RPC methods.
    :param serializer: payload serializer wrapped by :class:`RequestContextSerializer`.
    :returns: an oslo.messaging RPC server, not yet started.
    :raises: RuntimeError when :func:`init` was not called.
    """
    return oslo_messaging.get_rpc_server(
        get_transport(), target, endpoints,
        serializer=RequestContextSerializer(serializer),
        access_policy=oslo_messaging.DefaultRPCAccessPolicy)


def register_upgrade_level(conf: cfg.ConfigOpts, daemon: str) -> None:
    """Register ``[upgrade_levels] <daemon>``.

    :param conf: the configuration object.
    :param daemon: RPC API name, e.g. ``scheduler``.
    """
    opt = cfg.StrOpt(
        daemon,
        help=f"Highest RPC API version to send to {daemon} daemons, during a "
             "rolling upgrade. Possible values: unset (no cap), a release name, "
             "'auto', or a version such as '1.4'.")
    conf.register_opt(opt, group=UPGRADE_LEVELS_GROUP)


def version_cap(conf: cfg.ConfigOpts, daemon: str, aliases: Mapping[str, str],
                auto: Callable[[], str | None] | None = None) -> str | None:
    """The version cap for clients of ``daemon``, read now from ``conf``.

    :param conf: the configuration object.
    :param daemon: RPC API name (registered on demand).
    :param aliases: release name -> RPC version (the API's ``RELEASE_CAPS``).
    :param auto: computes the cap for ``auto`` (e.g. from service records);
        without it ``auto`` means no cap.
    :returns: a version string, or None for no cap.
    :raises: InvalidUpgradeLevel when the value is not understood.
    """
    register_upgrade_level(conf, daemon)
    value = conf[UPGRADE_LEVELS_GROUP][daemon]
    if not value:
        return None
    if value in aliases:
        cap: str | None = aliases[value]
    elif value == "auto":
        cap = auto() if auto is not None else None
    elif _is_version(value):
        cap = value
    else:
        raise InvalidUpgradeLevel(daemon=daemon, value=value)
    LOG.info("RPC version cap for %(daemon)s is %(cap)s (%(value)s)",
             {"daemon": daemon, "cap": cap, "value": value})
    return cap


def _is_version(value: str) -> bool:
    parts = value.split(".")
    return len(parts) == 2 and all(p.isdigit() for p in parts)


def get_notifier(publisher_id: str | None = None) -> oslo_messaging.Notifier:
    """A Notifier on the notification transport (driver from configuration).

    :param publisher_id: e.g. ``compute.host1``; default ``<publisher>.<host>``.
    :returns: an oslo.messaging Notifier (cached per publisher id).
    :raises: RuntimeError when :func:`init` was not called.
    """
    with _LOCK:
        transport = _STATE.notification_transport
        if transport is None:
            raise RuntimeError("common.rpc.init() must be called before notifying")
        publisher = publisher_id or _default_publisher()
        notifier = _STATE.notifiers.get(publisher)
        if notifier is None:
            notifier = oslo_messaging.Notifier(
                transport, publisher_id=publisher, serializer=RequestContextSerializer())
            _STATE.notifiers[publisher] = notifier
        return notifier


def _default_publisher() -> str:
    conf = _STATE.conf
    host = None
    if conf is not None:
        try:
            host = conf.host
        except cfg.NoSuchOptError:
            host = None
    return f"{_STATE.publisher}.{host}" if host else _STATE.publisher


def notify(ctxt: Any, event_type: str, payload: dict[str, Any],
           publisher_id: str | None = None, priority: str = "info") -> None:
    """Emit one notification; failures to send are logged, never raised.

    :param ctxt: the RequestContext of the operation.
    :param event_type: e.g. ``compute.instance.create.end``.
    :param payload: a JSON-serialisable dict.
    :param publisher_id: override of the default publisher id.
    :param priority: ``info``, ``warn``, ``error``, … (a Notifier method name).
    :raises: RuntimeError when :func:`init` was not called.
    """
    notifier = get_notifier(publisher_id)
    send = getattr(notifier, priority)
    try:
        send(ctxt, event_type, payload)
    except Exception:  # notifications are best effort: log once, go on
        LOG.exception("Failed to send notification %(event)s", {"event": event_type})


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """oslo.messaging's options, for oslo-config-generator."""
    return [(group, list(opts)) for group, opts in messaging_opts.list_opts()]


def expected(*exceptions: type[BaseException]) -> Callable[[Any], Any]:
    """``oslo_messaging.expected_exceptions`` that keeps the method's name,
    docstring and signature (signature tests and help() need them).

    :param exceptions: exception types that are business outcomes, not faults.
    :returns: the decorator.
    """
    def decorator(func: Any) -> Any:
        wrapped = oslo_messaging.expected_exceptions(*exceptions)(func)
        return functools.wraps(func)(wrapped)
    return decorator
