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

import os
from xml.etree import ElementTree as ET

# The image file is the driver-neutral one (the fake driver writes the same).
from compute.virt.config_drive import FILE_NAME, existing, path, write

__all__ = ["FILE_NAME", "attached", "existing", "path", "write"]


def attached(domain: ET.Element) -> str | None:
    """The config drive image a domain has (a CD-ROM whose file is a
    ``disk.config``), None when it has none."""
    for disk in domain.findall("devices/disk[@device='cdrom']"):
        source = disk.find("source")
        found = source.get("file") if source is not None else None
        if found and os.path.basename(found) == FILE_NAME:
            return found
    return None
