"""``stratus-compute-conductor``: build and migration workflows and the compute
database on behalf of the nodes (topic ``compute-conductor``)."""
from __future__ import annotations

from oslo_config import cfg

from common import rpc_service
from common.db import engine
from compute import rpcapi
from compute.cmd import db_daemon
from compute.conductor import manager


def build(conf: cfg.ConfigOpts, db: engine.Database) -> rpc_service.RPCService:
    """The conductor's RPC service on ``db`` (rpc.init done), heartbeats into its
    services table."""
    return db_daemon.build(conf, db, manager.ConductorManager, rpcapi.CONDUCTOR_TOPIC,
                           manager.BINARY)


def main() -> None:
    db_daemon.main(manager.ConductorManager, rpcapi.CONDUCTOR_TOPIC, manager.BINARY)


if __name__ == "__main__":
    main()
