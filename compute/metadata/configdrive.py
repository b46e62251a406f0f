"""The config drive: an ISO 9660 image labelled ``config-2`` with the same
documents as the metadata API (cloud-init and cloudbase-init read it where no
metadata service is reachable).

Layout, as Nova writes it::

    ec2/2009-04-04/meta-data.json, ec2/latest/meta-data.json (+ user-data)
    openstack/<each dated version and latest>/meta_data.json, user_data,
        vendor_data.json, network_data.json, vendor_data2.json (as the version has them)
    openstack/content/0000 … (injected files, listed in meta_data.json "files")

The image is written with pycdlib (pure Python; Rock Ridge and Joliet names);
where pycdlib is missing, with genisoimage, mkisofs or xorriso from the PATH.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from oslo_log import log as logging

from compute.metadata import content

LOG = logging.getLogger(__name__)
VOLUME_LABEL = "config-2"
PUBLISHER = "Stratus compute"
TOOLS = ("genisoimage", "mkisofs", "xorriso")


class ConfigDriveError(Exception):
    """The image could not be written."""


def build_config_drive(instance: Mapping[str, Any], path: str,
                       extra_files: Sequence[tuple[str, bytes]] = (),
                       settings: content.Settings | None = None,
                       metadata: content.InstanceMetadata | None = None) -> None:
    """Write the config drive of ``instance`` to ``path`` (replaced atomically).

    :param extra_files: injected files ``(guest path, data)`` (served under
        ``openstack/content/`` and listed in meta_data.json ``files``).
    :param settings: as the metadata API uses them (``content.settings_from_conf``).
    :param metadata: documents already built (then ``instance``, ``extra_files``
        and ``settings`` are not used).
    :raises: ConfigDriveError.
    """
    md = metadata or content.InstanceMetadata(instance, settings, content=extra_files)
    write_image(list(md.files()), path, md.uuid)


def write_image(files: Sequence[tuple[str, bytes]], path: str, instance_uuid: str = "") -> None:
    """Write an image holding ``files`` (``(path in the image, data)``, as
    :meth:`content.InstanceMetadata.files` yields them) to ``path`` (replaced
    atomically). :raises: ConfigDriveError."""
    files = list(files)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".configdrive-", dir=directory)
    os.close(fd)
    try:
        try:
            import pycdlib  # noqa: F401  (a dependency; the tools are the fallback)
        except ImportError:
            _write_with_tool(files, tmp)
        else:
            _write_with_pycdlib(files, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    LOG.info("Wrote config drive %(path)s for instance %(uuid)s (%(n)d files)",
             {"path": path, "uuid": instance_uuid or "?", "n": len(files)})


def _directories(files: Iterable[tuple[str, bytes]]) -> list[str]:
    """Every directory the files need, parents first."""
    found: set[str] = set()
    for name, _data in files:
        parts = name.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            found.add("/".join(parts[:depth]))
    return sorted(found, key=lambda d: (d.count("/"), d))


def _write_with_pycdlib(files: list[tuple[str, bytes]], target: str) -> None:
    import pycdlib

    iso = pycdlib.PyCdlib()
    # Level 4 keeps the real (lower-case, multi-dot) names in the ISO 9660 tree
    # too; Rock Ridge and Joliet carry them for Linux and Windows readers.
    iso.new(interchange_level=4, sys_ident="LINUX", vol_ident=VOLUME_LABEL,
            pub_ident_str=PUBLISHER, app_ident_str=PUBLISHER, joliet=3, rock_ridge="1.09")
    try:
        for directory in _directories(files):
            iso.add_directory("/" + directory, rr_name=directory.rsplit("/", 1)[-1],
                              joliet_path="/" + directory)
        for name, data in files:
            iso.add_fp(io.BytesIO(data), len(data), "/%s;1" % name,
                       rr_name=name.rsplit("/", 1)[-1], joliet_path="/" + name)
        iso.write(target)
    except (pycdlib.pycdlibexception.PyCdlibException, OSError) as err:
        raise ConfigDriveError("could not write the config drive: %s" % err) from err
    finally:
        iso.close()


def find_tool() -> list[str] | None:
    """The command that makes ISO images here (``None`` when there is none)."""
    for tool in TOOLS:
        found = shutil.which(tool)
        if found:
            return [found, "-as", "mkisofs"] if tool == "xorriso" else [found]
    return None


def _write_with_tool(files: list[tuple[str, bytes]], target: str) -> None:
    command = find_tool()
    if command is None:
        raise ConfigDriveError("no way to write ISO images: install pycdlib (pip) or "
                               "genisoimage (apt-get install genisoimage)")
    with tempfile.TemporaryDirectory(prefix="configdrive-") as root:
        for name, data in files:
            dest = os.path.join(root, *name.split("/"))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "wb") as handle:
                handle.write(data)
        argv = command + ["-o", target, "-ldots", "-allow-lowercase", "-allow-multidot",
                          "-l", "-publisher", PUBLISHER, "-quiet", "-J", "-r",
                          "-V", VOLUME_LABEL, root]
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ConfigDriveError("%s failed (%d): %s" % (os.path.basename(command[0]),
                                                           result.returncode,
                                                           result.stderr.strip()[-500:]))


def read_config_drive(path: str) -> dict[str, bytes]:
    """Every file of a config drive image by path (for tests and checks;
    needs pycdlib)."""
    import pycdlib

    iso = pycdlib.PyCdlib()
    iso.open(path)
    try:
        found: dict[str, bytes] = {}
        for dirname, _dirs, names in iso.walk(rr_path="/"):
            for name in names:
                rr_path = (dirname.rstrip("/") + "/" + name)
                out = io.BytesIO()
                iso.get_file_from_iso_fp(out, rr_path=rr_path)
                found[rr_path.lstrip("/")] = out.getvalue()
        return found
    finally:
        iso.close()


def volume_label(path: str) -> str:
    """The image's volume identifier (``config-2``; needs pycdlib)."""
    import pycdlib

    iso = pycdlib.PyCdlib()
    iso.open(path)
    try:
        return bytes(iso.pvd.volume_identifier).decode("ascii", "replace").strip()
    finally:
        iso.close()
