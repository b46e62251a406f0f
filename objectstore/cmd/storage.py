"""What the three storage server daemons (account, container, object) share.

Each one is a WSGI app served by the common threaded server on the address of its
own option group (``[object_server]``, ``[container_server]``, ``[account_server]``:
``bind_host``, ``bind_port``, ``threads``). A storage server that cannot use its
devices (a missing devices directory, a filesystem without user xattrs) must not
start half-working: it says what is wrong in one line and exits with status 2.
"""
from __future__ import annotations

import errno
import os
import sys
from typing import Any, Callable

from oslo_config import cfg
from oslo_log import log as logging

from common import service
from common.wsgi import server as wsgi_server
from objectstore.obj import ondisk

LOG = logging.getLogger(__name__)

#: Exit status of a daemon that cannot start because of its configuration or disks.
EXIT_SETUP = 2
#: Idle keep-alive connections a storage server keeps open (cheroot's default is 10).
#: Its clients (the proxy, the object servers' container updates) each keep up to
#: ``objectstore.common.backend.MAX_PER_SERVER`` of them per server; beyond the limit
#: the server closes connections after one request, and every request pays for a
#: new TCP connection on both sides again.
KEEP_ALIVE_LIMIT = 512

_NO_XATTR = {errno.ENOTSUP, errno.EOPNOTSUPP}


def setup_error(conf: cfg.ConfigOpts, err: BaseException) -> str | None:
    """The one-line operator message for ``err`` raised while building a storage
    server, or None when ``err`` is a bug (which keeps its traceback)."""
    devices = _devices(conf)
    if isinstance(err, ondisk.XattrNotSupported):
        # Its message names the device directory and what to use instead.
        return "%s (devstack/stack.sh makes loop-mounted ext4 images when needed)" % err
    if isinstance(err, OSError) and err.errno in _NO_XATTR:
        return ("the filesystem of %s does not support user extended attributes "
                "(xattrs), where objects keep their metadata: put the devices on "
                "ext4 or XFS (devstack/stack.sh makes loop-mounted ext4 images when "
                "needed) and set [objectstore] devices to it" % devices)
    if isinstance(err, OSError):
        where = err.filename or devices
        return "cannot use %s: %s" % (where, err.strerror or err)
    # The storage servers' own start-up errors (a bad device, a bad ring) are
    # ValueError/RuntimeError subclasses of objectstore's modules.
    if type(err).__module__.startswith("objectstore.") or isinstance(err, cfg.Error):
        return "%s (devices %s)" % (err, devices)
    return None


def _devices(conf: cfg.ConfigOpts) -> str:
    try:
        return str(conf.objectstore.devices)
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
        return "[objectstore] devices"


def build_app(conf: cfg.ConfigOpts, create_app: Callable[[cfg.ConfigOpts], Any],
              name: str) -> Any:
    """``create_app(conf)``, or exit with status 2 and one clear line when it fails
    because of the machine rather than the code."""
    try:
        return create_app(conf)
    except Exception as err:  # the boundary: sort operator errors from bugs
        message = setup_error(conf, err)
        if message is None:
            raise
    # Out of the except block, so that the log line carries no exception text again.
    LOG.error("%(name)s cannot start: %(msg)s", {"name": name, "msg": message})
    print("%s: cannot start: %s" % (name, message), file=sys.stderr)
    sys.exit(EXIT_SETUP)


class StorageServer(wsgi_server.Server):
    """The common threaded server, keeping up to :data:`KEEP_ALIVE_LIMIT` idle
    keep-alive connections."""

    def __init__(self, app: Any, host: str, port: int, threads: int = 16,
                 name: str = "stratus") -> None:
        super().__init__(app, host, port, threads=threads, name=name)
        self._server.keep_alive_conn_limit = KEEP_ALIVE_LIMIT


def start_server(conf: cfg.ConfigOpts, group: str, app: Any,
                 name: str) -> wsgi_server.Server:
    """Serve ``app`` on ``[group] bind_host:bind_port`` with ``[group] threads``;
    returns once it listens. Exits with status 2 when the port is taken."""
    opts = conf[group]
    server = StorageServer(app, opts.bind_host, opts.bind_port, threads=opts.threads,
                           name=name)
    try:
        server.start()
    except OSError as err:
        print("%s: cannot listen on %s:%s: %s (is another server using the port? "
              "[%s] bind_port sets it)" % (name, opts.bind_host, opts.bind_port,
                                           err.strerror or err, group), file=sys.stderr)
        sys.exit(EXIT_SETUP)
    return server


def run_server(conf: cfg.ConfigOpts, group: str,
               create_app: Callable[[cfg.ConfigOpts], Any], name: str) -> None:
    """Build the storage server's app and serve it until SIGTERM/SIGINT."""
    app = build_app(conf, create_app, name)
    server = start_server(conf, group, app, name)
    LOG.info("%(name)s started (pid %(pid)s) on %(host)s:%(port)s",
             {"name": name, "pid": os.getpid(), "host": server.host, "port": server.port})
    launcher = service.Launcher()
    launcher.add(server.stop)
    launcher.wait()
    sys.exit(0)
