"""The interface of a backup driver: where a backup's bytes are kept.

A driver sees a backup as the plain dict the backups store returns and the
volume as an open binary file (the manager exports the volume to this host
and opens it); it never touches the database.
"""
from __future__ import annotations

import abc
from typing import Any, BinaryIO


class BackupDriver(abc.ABC):
    """Keeps backups somewhere; one instance per operation (it may hold the
    user's credentials)."""

    #: What ``backups.service`` records for backups this driver made.
    name: str = ""

    @abc.abstractmethod
    def backup(self, backup: dict[str, Any], volume_file: BinaryIO) -> dict[str, Any]:
        """Store the volume's data, read from ``volume_file`` until its end.

        :param backup: the backup's record (id, volume_id, container,
            availability_zone, created_at …).
        :param volume_file: the volume's data, positioned at its start.
        :returns: the columns to record: ``container``, ``object_count``,
            ``service_metadata`` (what the driver needs to find the data again)
            and ``service`` (the driver's name).
        :raises: BackupDriverException, ObjectStoreError; OSError on reads.
        """

    @abc.abstractmethod
    def restore(self, backup: dict[str, Any], volume_id: str,
                volume_file: BinaryIO) -> None:
        """Write the backup's data into ``volume_file`` from offset 0.

        :param backup: the backup's record as :meth:`backup` left it.
        :param volume_id: the volume restored into (for logs).
        :param volume_file: the target, open for writing, at least as large.
        :raises: BackupDriverException (missing or corrupt data),
            ObjectStoreError; OSError on writes.
        """

    @abc.abstractmethod
    def delete_backup(self, backup: dict[str, Any]) -> None:
        """Remove everything the backup stored; data already gone is fine.

        :param backup: the backup's record (possibly of a failed backup).
        :raises: ObjectStoreError.
        """
