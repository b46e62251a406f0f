"""Daemon side of RPC: serve a manager, report heartbeats, run periodic tasks."""
from __future__ import annotations

import inspect
import threading
import uuid
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import oslo_messaging
from oslo_config import cfg
from oslo_log import log as logging

from common import context, rpc, service

LOG = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
Spacing = float | Callable[[cfg.ConfigOpts], float]
ReportState = Callable[[context.RequestContext, str, str, str], None]

_PERIODIC_ATTR = "_stratus_periodic"
_JOIN_TIMEOUT = 30.0

OPTS: list[cfg.Opt] = [
    cfg.FloatOpt("report_interval", default=10.0, min=0.01,
                 help="Seconds between two heartbeats a daemon records for itself. "
                      "Related options: the service-specific down time after which "
                      "a silent daemon is considered dead should be several times "
                      "this value."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register ``[DEFAULT] report_interval``.

    :param conf: the configuration object.
    """
    conf.register_opts(OPTS)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """Options of this module, for oslo-config-generator."""
    return [(None, OPTS)]


class Manager(Protocol):
    """What RPCService needs from a manager: its RPC target."""

    target: oslo_messaging.Target


class _PeriodicSpec:
    def __init__(self, spacing: Spacing, run_immediately: bool) -> None:
        self.spacing = spacing
        self.run_immediately = run_immediately


def periodic_task(spacing: Spacing, run_immediately: bool = False) -> Callable[[F], F]:
    """Mark a manager method ``method(self, ctxt)`` to run every ``spacing`` seconds.

    :param spacing: seconds, or a callable taking the ConfigOpts and returning
        seconds, so an option can be read at start time rather than import time.
        A value <= 0 disables the task.
    :param run_immediately: run once at start instead of after the first interval.
    :returns: the decorator (it leaves the method unchanged apart from a marker).
    """
    def decorator(func: F) -> F:
        setattr(func, _PERIODIC_ATTR, _PeriodicSpec(spacing, run_immediately))
        return func
    return decorator


def periodic_tasks(obj: Any) -> list[tuple[str, Callable[..., Any], _PeriodicSpec]]:
    """The periodic tasks of ``obj`` as ``(name, bound method, spec)``, sorted by name.

    :param obj: a manager instance.
    :returns: the marked methods found on ``obj``'s class.
    """
    found = []
    for name, member in inspect.getmembers(type(obj), callable):
        spec = getattr(member, _PERIODIC_ATTR, None)
        if isinstance(spec, _PeriodicSpec):
            found.append((name, getattr(obj, name), spec))
    return found


class _Loop:
    """Runs ``func`` every ``interval`` seconds on its own thread until stopped."""

    def __init__(self, name: str, func: Callable[[], None], interval: float,
                 run_immediately: bool, stop: threading.Event) -> None:
        self.name = name
        self._func = func
        self._interval = interval
        self._run_immediately = run_immediately
        self._stop = stop
        self.runs = 0
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        if self._run_immediately and not self._stop.is_set():
            self._once()
        while not self._stop.wait(self._interval):
            self._once()

    def _once(self) -> None:
        try:
            self._func()
        except Exception:  # the boundary of a periodic task: log, keep going
            LOG.exception("Periodic task %(name)s failed", {"name": self.name})
        self.runs += 1


class RPCService:
    """Serves ``manager`` on ``topic`` (as server ``host``), with heartbeats and periodic tasks.

    ``report_state(ctxt, binary, host, topic)`` records a heartbeat wherever the
    service keeps them (its DB in a conductor, an RPC call from a compute node).
    Managers may define ``init_host()`` (before serving) and ``cleanup_host()``
    (after stopping).
    """

    def __init__(self, conf: cfg.ConfigOpts, manager: Manager, topic: str, host: str,
                 report_state: ReportState | None = None, binary: str | None = None,
                 endpoints: list[Any] | None = None,
                 serializer: oslo_messaging.Serializer | None = None) -> None:
        register_opts(conf)
        self.conf = conf
        self.manager = manager
        self.topic = topic
        self.host = host
        self.binary = binary or f"stratus-{topic}"
        self._report_state = report_state
        self._endpoints = [manager] + list(endpoints or [])
        self._serializer = serializer
        self._server: Any = None
        self._stop = threading.Event()
        self._loops: list[_Loop] = []
        self._lock = threading.Lock()
        self._started = False
        self._report_failing = False

    @property
    def loops(self) -> list[_Loop]:
        return list(self._loops)

    def start(self) -> None:
        """Run ``init_host``, start the RPC server, heartbeats and periodic tasks.

        :raises: RuntimeError when :func:`common.rpc.init` was not called.
        """
        with self._lock:
            if self._started:
                return
            hook = getattr(self.manager, "init_host", None)
            if callable(hook):
                hook()
            target = oslo_messaging.Target(topic=self.topic, server=self.host)
            self._server = rpc.get_server(target, self._endpoints, self._serializer)
            self._server.start()
            self._stop.clear()
            self._loops = self._make_loops()
            for loop in self._loops:
                loop.thread.start()
            self._started = True
        LOG.info("%(binary)s serving topic %(topic)s on %(host)s (%(n)d periodic tasks)",
                 {"binary": self.binary, "topic": self.topic, "host": self.host,
                  "n": len(self._loops) - (1 if self._report_state else 0)})

    def _make_loops(self) -> list[_Loop]:
        loops = []
        if self._report_state is not None:
            loops.append(_Loop("heartbeat", self.report_state,
                               float(self.conf.report_interval), True, self._stop))
        for name, method, spec in periodic_tasks(self.manager):
            spacing = spec.spacing(self.conf) if callable(spec.spacing) else spec.spacing
            if spacing <= 0:
                LOG.info("Periodic task %(name)s disabled", {"name": name})
                continue
            loops.append(_Loop(name, _with_context(method), float(spacing),
                               spec.run_immediately, self._stop))
        return loops

    def report_state(self) -> None:
        """Record one heartbeat; a failure is logged once until it recovers."""
        if self._report_state is None:
            return
        ctxt = _fresh_context()
        try:
            self._report_state(ctxt, self.binary, self.host, self.topic)
        except Exception:
            if not self._report_failing:
                LOG.exception("Recording the heartbeat of %(binary)s failed",
                              {"binary": self.binary})
            self._report_failing = True
            return
        if self._report_failing:
            LOG.info("Heartbeats of %(binary)s recorded again", {"binary": self.binary})
            self._report_failing = False

    def stop(self) -> None:
        """Stop taking messages, finish those in flight, then stop the periodic threads.

        Safe to call more than once.
        """
        with self._lock:
            if not self._started:
                return
            self._started = False
            server, self._server = self._server, None
        if server is not None:
            server.stop()
            server.wait()
        self._stop.set()
        for loop in self._loops:
            loop.thread.join(_JOIN_TIMEOUT)
            if loop.thread.is_alive():
                LOG.warning("Periodic task %(name)s still running at stop",
                            {"name": loop.name})
        hook = getattr(self.manager, "cleanup_host", None)
        if callable(hook):
            hook()
        LOG.info("%(binary)s stopped", {"binary": self.binary})


def _fresh_context() -> context.RequestContext:
    # A new id per run, made current for this thread so oslo.log tags the run's
    # lines with it (admin_context() does not overwrite the thread's context).
    ctxt = context.admin_context("req-" + str(uuid.uuid4()))
    ctxt.update_store()
    return ctxt


def _with_context(method: Callable[[context.RequestContext], Any]) -> Callable[[], None]:
    def run() -> None:
        method(_fresh_context())
    return run


def run_rpc(conf: cfg.ConfigOpts, rpc_service: RPCService,
            launcher: service.Launcher | None = None) -> None:
    """Start ``rpc_service`` and run until SIGTERM/SIGINT, then stop it and RPC.

    :param conf: the parsed configuration (``rpc.init`` already called with it).
    :param rpc_service: the service to run.
    :param launcher: the launcher to use (tests pass their own).
    :raises: RuntimeError when :func:`common.rpc.init` was not called.
    """
    conf.log_opt_values(LOG, logging.DEBUG)
    launcher = launcher if launcher is not None else service.Launcher()
    launcher.add(rpc.cleanup)
    rpc_service.start()
    launcher.add(rpc_service.stop)
    LOG.info("%(binary)s started on %(host)s",
             {"binary": rpc_service.binary, "host": rpc_service.host})
    launcher.wait()
