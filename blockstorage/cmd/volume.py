"""``stratus-blockstorage-volume``: one storage backend's daemon (topic
``blockstorage-volume``, server and services host ``<[DEFAULT] host>@<[volume]
backend_name>``); ``[volume] volume_driver`` picks the driver."""
from __future__ import annotations

from oslo_config import cfg

from common.db import engine
from blockstorage import rpcapi
from blockstorage.cmd import daemon
from blockstorage.volume import manager


def make_manager(conf: cfg.ConfigOpts, db: engine.Database) -> manager.VolumeManager:
    """The backend's endpoint on ``db`` (rpc.init done: it casts to the scheduler)."""
    return manager.VolumeManager(conf, db)


def main() -> None:
    daemon.main(make_manager, rpcapi.VOLUME_TOPIC, rpcapi.VOLUME_BINARY,
                host=manager.backend_host)


if __name__ == "__main__":
    main()
