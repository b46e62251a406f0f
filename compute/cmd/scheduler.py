"""``stratus-compute-scheduler``: chooses compute hosts for the conductor
(topic ``compute-scheduler``); one process serialises all decisions."""
from __future__ import annotations

import sys
from typing import Any

from oslo_config import cfg

from common import rpc
from common import rpc_service
from common import service
from common.db import engine
from compute import conf as compute_conf
from compute import rpcapi
from compute.db import hosts as hosts_db
from compute.scheduler import manager

EXMODS = rpcapi.EXMODS


def build(conf: cfg.ConfigOpts, db: engine.Database) -> rpc_service.RPCService:
    """The scheduler's RPC service on ``db``, heartbeats into its services table."""
    store = hosts_db.HostStore(db)

    def report_state(ctxt: Any, binary: str, host: str, topic: str) -> None:
        store.service_report(binary, host, topic)

    return rpc_service.RPCService(conf, manager.SchedulerManager(conf, db),
                                  rpcapi.SCHEDULER_TOPIC, conf.host,
                                  report_state=report_state, binary=manager.BINARY)


def main() -> None:
    conf = service.prepare("compute", sys.argv, compute_conf.register_opts)
    rpc.init(conf, exmods=EXMODS, publisher="compute")
    db = engine.Database.from_conf(conf, "compute")
    rpc_service.run_rpc(conf, build(conf, db))
    db.dispose()
    sys.exit(0)


if __name__ == "__main__":
    main()
