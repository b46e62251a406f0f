"""What the block storage RPC daemons share (scheduler, volume, backup): an RPC
service whose heartbeats go straight into the ``services`` table, and ``main``.

Interface (for ``blockstorage/cmd/{scheduler,volume,backup}.py``)::

    build(conf, db, manager, topic, binary, host=None, availability_zone=None)
        -> common.rpc_service.RPCService
    main(make_manager, topic, binary, host=None) -> None   # never returns

* ``manager``: the endpoint object; it declares
  ``target = oslo_messaging.Target(version="1.0")`` and may define
  ``init_host()`` / ``cleanup_host()`` and ``@rpc_service.periodic_task`` methods.
* ``make_manager(conf, db)``: builds it once the configuration is parsed.
* ``topic``, ``binary``: ``rpcapi.SCHEDULER_TOPIC`` / ``rpcapi.SCHEDULER_BINARY`` …
* ``host``: the RPC server name and the services row's host. Default
  ``[DEFAULT] host``; a volume daemon passes ``"<host>@<backend>"``, or a
  callable ``host(conf)`` to ``main`` since the configuration is parsed there.
* ``availability_zone``: the row's zone; default ``[DEFAULT] storage_availability_zone``.

The service registers its row before serving (so the scheduler sees a new
backend at once) and then beats every ``[DEFAULT] report_interval`` seconds.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from oslo_config import cfg

from common import rpc
from common import rpc_service
from common import service
from common.db import engine
from blockstorage import conf as bs_conf
from blockstorage import rpcapi
from blockstorage.db import services as services_db

SERVICE = "blockstorage"
ManagerFactory = Callable[[cfg.ConfigOpts, engine.Database], Any]
HostOption = str | Callable[[cfg.ConfigOpts], str] | None


def heartbeat_reporter(store: services_db.ServiceStore,
                       availability_zone: str) -> rpc_service.ReportState:
    """The ``report_state`` of RPCService: one heartbeat into the services table."""
    def report_state(ctxt: Any, binary: str, host: str, topic: str) -> None:
        store.heartbeat(binary, host, topic=topic, availability_zone=availability_zone)
    return report_state


def build(conf: cfg.ConfigOpts, db: engine.Database, manager: Any, topic: str,
          binary: str, host: str | None = None,
          availability_zone: str | None = None) -> rpc_service.RPCService:
    """The RPC service of ``manager`` on ``topic`` as server ``host``, its
    heartbeats in ``db``'s services table. ``rpc.init`` must have run.

    The row is written once here, before the service starts.
    """
    host = host or conf.host
    zone = availability_zone or conf.storage_availability_zone
    store = services_db.ServiceStore(db)
    store.register(binary, host, topic=topic, availability_zone=zone)
    return rpc_service.RPCService(conf, manager, topic, host,
                                  report_state=heartbeat_reporter(store, zone),
                                  binary=binary)


def main(make_manager: ManagerFactory, topic: str, binary: str,
         host: HostOption = None) -> None:
    """Parse the command line, start RPC and serve until SIGTERM/SIGINT; exits."""
    conf = service.prepare(SERVICE, sys.argv, bs_conf.register_opts)
    rpc.init(conf, exmods=rpcapi.EXMODS, publisher=SERVICE)
    db = engine.Database.from_conf(conf, SERVICE)
    name = host(conf) if callable(host) else host
    rpc_service.run_rpc(conf, build(conf, db, make_manager(conf, db), topic, binary,
                                    host=name))
    db.dispose()
    sys.exit(0)
