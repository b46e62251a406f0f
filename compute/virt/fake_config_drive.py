"""Config drives of the fake driver's guests (a mixin of ``FakeDriver``).

``config_drives`` holds the drive each guest was given (by ``spawn``,
``finish_migration`` or, for a guest live-migrated here, ``pre_live_migration``);
a resize keeps the source's in ``resized_config_drives`` for a revert. No image
is written (scale runs boot thousands of guests) unless the driver was given a
``config_drive_dir``: then each drive is written there as
``<uuid>/disk.config``, as the libvirt driver names it, and removed with the
guest.
"""
from __future__ import annotations

import os
import threading

from compute.virt import config_drive as drive_files
from compute.virt import model
from compute.virt.fake_guest import FakeGuest

class FakeConfigDrives:
    """``has_config_drive`` and the drives' records and files."""

    _lock: threading.Lock
    _guests: dict[str, FakeGuest]

    def _init_config_drives(self, directory: str) -> None:
        #: instance uuid -> the config drive its guest has.
        self.config_drives: dict[str, model.ConfigDrive] = {}
        #: instance uuid -> the config drive a resize kept on the source for a revert.
        self.resized_config_drives: dict[str, model.ConfigDrive] = {}
        #: Where config drive images are written ("": nowhere, only recorded).
        self.config_drive_dir = directory

    def has_config_drive(self, instance: model.Instance) -> bool:
        with self._lock:
            return instance.uuid in self._guests and instance.uuid in self.config_drives

    def config_drive_path(self, instance_uuid: str) -> str | None:
        """Where the guest's config drive image is written (None: nowhere)."""
        if not self.config_drive_dir:
            return None
        return drive_files.path(os.path.join(self.config_drive_dir, instance_uuid))

    def _set_config_drive(self, instance_uuid: str, drive: model.ConfigDrive | None) -> None:
        """Record (and, given a ``config_drive_dir``, write) the guest's drive; None
        forgets it. Called with the lock held.

        :raises: InstanceDeployFailure when the image cannot be written.
        """
        path = self.config_drive_path(instance_uuid)
        if path is not None:
            drive_files.write(os.path.dirname(path), drive, instance_uuid)
        if drive is None:
            self.config_drives.pop(instance_uuid, None)
        else:
            self.config_drives[instance_uuid] = drive
