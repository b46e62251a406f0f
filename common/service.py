"""Daemon launcher: config and logging set-up, signal handling, graceful stop."""
from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any, Callable

from oslo_config import cfg
from oslo_log import log as logging


LOG = logging.getLogger(__name__)
CONF_KEY = "stratus_conf"

_LOG_FORMAT = ("%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s "
               "[%(global_request_id)s %(request_id)s %(user_identity)s] %(message)s")
_LOG_DEFAULT_FORMAT = ("%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s "
                       "[-] %(message)s")
_QUIET = ["amqp=WARN", "amqplib=WARN", "kombu=WARN", "oslo.messaging=INFO",
          "oslo_messaging=INFO", "sqlalchemy=WARN", "stevedore=WARN", "urllib3=WARN",
          "keystonemiddleware=INFO", "keystoneauth=INFO", "oslo_policy=INFO",
          "cheroot=WARN", "alembic=WARN"]


def prepare(service: str, argv: list[str], register: Callable[[cfg.ConfigOpts], None],
            conf: cfg.ConfigOpts | None = None, prog: str | None = None) -> cfg.ConfigOpts:
    """Register options, parse the command line and config files, set up logging."""
    conf = conf if conf is not None else cfg.CONF
    logging.register_options(conf)
    register(conf)
    logging.set_defaults(default_log_levels=_QUIET)
    conf.set_default("logging_context_format_string", _LOG_FORMAT)
    conf.set_default("logging_default_format_string", _LOG_DEFAULT_FORMAT)
    try:
        conf(argv[1:], project="stratus", prog=prog or os.path.basename(argv[0]),
             default_config_files=_default_config_files(service))
    except (cfg.ConfigFilesNotFoundError, cfg.ConfigFileParseError,
            cfg.ConfigFileValueError, cfg.RequiredOptError) as err:
        # Before logging exists: one clear line for the operator, no traceback.
        print("%s: configuration error: %s" % (prog or os.path.basename(argv[0]), err),
              file=sys.stderr)
        sys.exit(2)
    logging.setup(conf, "stratus")
    return conf


def _default_config_files(service: str) -> list[str]:
    found = cfg.find_config_files(project="stratus", prog=service)
    return found or []


def paste_path(conf: cfg.ConfigOpts) -> str:
    """Where the api-paste.ini is: absolute, or next to the first config file."""
    path = conf.api.api_paste_config
    if os.path.isabs(path):
        return str(path)
    for config_file in conf.config_file or []:
        candidate = os.path.join(os.path.dirname(os.path.abspath(config_file)), path)
        if os.path.exists(candidate):
            return candidate
    found = conf.find_file(path)
    if not found:
        raise cfg.ConfigFilesNotFoundError([path])
    return str(found)


# Paste passes only strings to factories, so the ConfigOpts travels by key.
_CONFS: dict[str, cfg.ConfigOpts] = {}


def load_app(conf: cfg.ConfigOpts, name: str = "main", path: str | None = None) -> Any:
    # Imported here: agents and RPC daemons load no paste app (nor the HTTP server).
    from paste import deploy

    key = str(id(conf))
    _CONFS[key] = conf
    return deploy.loadapp("config:" + (path or paste_path(conf)), name=name,
                          global_conf={CONF_KEY: key})


def conf_from_global(global_conf: dict[str, Any]) -> cfg.ConfigOpts:
    """The ConfigOpts a Paste factory should use (handed over by ``load_app``)."""
    return _CONFS.get(str(global_conf.get(CONF_KEY)), cfg.CONF)


class Launcher:
    """Runs started services until SIGTERM/SIGINT, then stops them in reverse order."""

    def __init__(self) -> None:
        self._stoppers: list[Callable[[], None]] = []
        self._done = threading.Event()

    def add(self, stopper: Callable[[], None]) -> None:
        self._stoppers.append(stopper)

    def _handle(self, signum: int, _frame: Any) -> None:
        LOG.info("Caught signal %(sig)s, stopping", {"sig": signum})
        self._done.set()

    def wait(self, stop_timeout: float = 20.0) -> None:
        """Block until SIGTERM/SIGINT, then stop everything within ``stop_timeout``.

        A request stuck on an unreachable broker must not keep the daemon alive:
        past the timeout the process exits anyway (status 1).
        """
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)
        while not self._done.wait(1.0):
            pass
        watchdog = threading.Timer(stop_timeout, self._force_exit, (stop_timeout,))
        watchdog.daemon = True
        watchdog.start()
        for stop in reversed(self._stoppers):
            try:
                stop()
            except Exception:  # the boundary: keep stopping the rest
                LOG.exception("Error while stopping")
        watchdog.cancel()
        LOG.info("Stopped")

    @staticmethod
    def _force_exit(timeout: float) -> None:
        LOG.error("Did not stop within %(t)s s; exiting now", {"t": timeout})
        os._exit(1)


def run_api(conf: cfg.ConfigOpts, name: str) -> None:
    """Serve the paste app of this service until a signal arrives."""
    from common.wsgi import server as wsgi_server

    app = load_app(conf)
    server = wsgi_server.Server(app, conf.api.bind_host, conf.api.bind_port,
                                threads=conf.api.threads, name=name)
    server.start()
    LOG.info("%(name)s started (pid %(pid)s)", {"name": name, "pid": os.getpid()})
    launcher = Launcher()
    launcher.add(server.stop)
    launcher.wait()
    sys.exit(0)
