"""``stratus-blockstorage-backup``: volume backups to and from the object store
(topic ``blockstorage-backup``, server ``[DEFAULT] host``)."""
from __future__ import annotations

from oslo_config import cfg

from blockstorage import rpcapi
from blockstorage.backup import manager
from blockstorage.cmd import daemon
from common.db import engine


def make_manager(conf: cfg.ConfigOpts, db: engine.Database) -> manager.BackupManager:
    """The backup endpoint on ``db`` (rpc.init done: it calls the volume daemons)."""
    return manager.BackupManager(conf, db)


def main() -> None:
    daemon.main(make_manager, rpcapi.BACKUP_TOPIC, rpcapi.BACKUP_BINARY)


if __name__ == "__main__":
    main()
