"""``stratus-compute-scheduler``: chooses compute hosts for the conductor
(topic ``compute-scheduler``); one process serialises all decisions."""
from __future__ import annotations

from oslo_config import cfg

from common import rpc_service
from common.db import engine
from compute import rpcapi
from compute.cmd import db_daemon
from compute.scheduler import manager


def build(conf: cfg.ConfigOpts, db: engine.Database) -> rpc_service.RPCService:
    """The scheduler's RPC service on ``db``, heartbeats into its services table."""
    return db_daemon.build(conf, db, manager.SchedulerManager, rpcapi.SCHEDULER_TOPIC,
                           manager.BINARY)


def main() -> None:
    db_daemon.main(manager.SchedulerManager, rpcapi.SCHEDULER_TOPIC, manager.BINARY)


if __name__ == "__main__":
    main()
