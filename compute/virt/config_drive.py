"""Config drive image files, as every driver that writes them keeps them: the
drive's documents (:class:`compute.virt.model.ConfigDrive`) written as an ISO
9660 ``config-2`` image named ``disk.config`` (as Nova names it) in a guest's
directory, and removed when the guest no longer has a drive.
"""
from __future__ import annotations

import contextlib
import os

from compute.metadata import configdrive
from compute.virt import exception
from compute.virt import model

FILE_NAME = "disk.config"


def path(directory: str) -> str:
    return os.path.join(directory, FILE_NAME)


def existing(directory: str) -> str | None:
    """The drive image in ``directory``, None when there is none."""
    found = path(directory)
    return found if os.path.isfile(found) else None


def write(directory: str, drive: model.ConfigDrive | None, instance_uuid: str,
          keep: bool = False) -> str | None:
    """The image of ``drive`` written in ``directory`` (``keep``: an image already
    there stays); without a drive, an image left there is removed. The path of
    the image the guest gets (None: no drive).

    :raises: InstanceDeployFailure when it cannot be written.
    """
    target = path(directory)
    if drive is None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target)
        return None
    if keep and os.path.isfile(target):
        return target
    try:
        os.makedirs(directory, exist_ok=True)
        configdrive.write_image(drive.files, target, instance_uuid)
    except (configdrive.ConfigDriveError, OSError) as err:
        raise exception.InstanceDeployFailure(
            reason="the config drive of %s could not be written: %s" % (instance_uuid, err)
        ) from err
    return target
