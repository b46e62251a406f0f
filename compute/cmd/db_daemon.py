"""What the compute daemons that own the database share (conductor, scheduler):
an RPC service whose heartbeats go straight into the services table, and main()."""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from oslo_config import cfg

from common import rpc
from common import rpc_service
from common import service
from common.db import engine
from compute import conf as compute_conf
from compute import rpcapi
from compute.db import hosts as hosts_db

ManagerFactory = Callable[[cfg.ConfigOpts, engine.Database], Any]


def build(conf: cfg.ConfigOpts, db: engine.Database, make_manager: ManagerFactory,
          topic: str, binary: str) -> rpc_service.RPCService:
    """The RPC service of ``make_manager(conf, db)`` on ``topic`` (rpc.init done)."""
    store = hosts_db.HostStore(db)

    def report_state(ctxt: Any, binary: str, host: str, topic: str) -> None:
        store.service_report(binary, host, topic)

    return rpc_service.RPCService(conf, make_manager(conf, db), topic, conf.host,
                                  report_state=report_state, binary=binary)


def main(make_manager: ManagerFactory, topic: str, binary: str) -> None:
    conf = service.prepare("compute", sys.argv, compute_conf.register_opts)
    rpc.init(conf, exmods=rpcapi.EXMODS, publisher="compute")
    db = engine.Database.from_conf(conf, "compute")
    rpc_service.run_rpc(conf, build(conf, db, make_manager, topic, binary))
    db.dispose()
    sys.exit(0)
