"""Backup drivers: where backups are kept (``[backup] backup_driver``)."""
from __future__ import annotations

from typing import Any

from oslo_config import cfg

from blockstorage import exception
from blockstorage.backup.drivers import base
from blockstorage.backup.drivers import objectstore as objectstore_driver
from blockstorage.clients import objectstore as objectstore_client


def load(conf: cfg.ConfigOpts, ctxt: Any, backup: dict[str, Any]) -> base.BackupDriver:
    """The configured driver for one operation on ``backup``.

    The object store driver acts as ``ctxt``'s user (with the service token)
    on the account of the backup's project.

    :param conf: the configuration ([backup], [swift], [service_user]).
    :param ctxt: the context of the request.
    :param backup: the backup's record.
    :returns: the driver.
    :raises: BackupDriverException for an unknown driver; ObjectStoreError
        when the object store has no endpoint.
    """
    name = conf.backup.backup_driver
    if name != objectstore_driver.ObjectStoreBackupDriver.name:
        raise exception.BackupDriverException(reason="unknown backup driver %s" % name)
    store = objectstore_client.ObjectStoreAPI.for_project(conf, ctxt, backup.get("project_id"))
    return objectstore_driver.ObjectStoreBackupDriver(conf, store)
