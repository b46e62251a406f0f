"""``stratus-blockstorage-scheduler``: places new volumes on backends (topic
``blockstorage-scheduler``); one process serialises all decisions."""
from __future__ import annotations

from oslo_config import cfg

from common.db import engine
from blockstorage import rpcapi
from blockstorage.cmd import daemon
from blockstorage.scheduler import manager


def make_manager(conf: cfg.ConfigOpts, db: engine.Database) -> manager.SchedulerManager:
    """The scheduler's endpoint on ``db`` (rpc.init done: it casts to volume daemons)."""
    return manager.SchedulerManager(conf, db, rpcapi.VolumeAPI())


def main() -> None:
    daemon.main(make_manager, rpcapi.SCHEDULER_TOPIC, rpcapi.SCHEDULER_BINARY)


if __name__ == "__main__":
    main()
