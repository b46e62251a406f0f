"""Config drives of libvirt guests: the image file and where the domain has it.

The node hands the driver the drive's documents (:class:`compute.virt.model.ConfigDrive`);
the driver writes them as an ISO 9660 ``config-2`` image named ``disk.config``
in the instance's directory (as Nova names it), and the domain gets it as a
read-only CD-ROM after its other disks (:func:`config.config_drive_disk`). The
file goes with the directory: ``destroy`` removes it, a resize carries it to
the destination (kept there, as Nova does not overwrite a drive that exists,
and written only when none came along), a revert brings the source's back. A
rescue guest gets the instance's own drive (the same documents; Nova writes a
second image, ``disk.config.rescue``, only to add the rescue password, which
this driver does not inject).
"""
from __future__ import annotations

import contextlib
import os
from xml.etree import ElementTree as ET

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
        configdrive.write_image(drive.files, target, instance_uuid)
    except (configdrive.ConfigDriveError, OSError) as err:
        raise exception.InstanceDeployFailure(
            reason="the config drive of %s could not be written: %s" % (instance_uuid, err)
        ) from err
    return target


def attached(domain: ET.Element) -> str | None:
    """The config drive image a domain has (a CD-ROM whose file is a
    ``disk.config``), None when it has none."""
    for disk in domain.findall("devices/disk[@device='cdrom']"):
        source = disk.find("source")
        found = source.get("file") if source is not None else None
        if found and os.path.basename(found) == FILE_NAME:
            return found
    return None
