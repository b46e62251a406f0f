"""What every volume driver offers the volume manager, and the process boundary.

A driver owns one storage backend. The manager hands it plain dicts (the
stores' rows: a volume has ``id``, ``size``, ``provider_location``,
``provider_auth`` …; a snapshot has ``id``, ``volume_id``, ``volume_size``/``size``)
and stores the ``model_update`` dicts it returns (``provider_location``,
``provider_auth``). Drivers never open the database.

Every command a driver runs goes through a :class:`Runner` (``runner(argv)``),
so the unit tests see the exact command lines by handing in a recording fake,
and the real one is :func:`execute`.
"""
from __future__ import annotations

import abc
import dataclasses
import json
import os
import subprocess
from collections.abc import Sequence
from typing import Any, Protocol

from oslo_config import cfg
from oslo_log import log as logging

from blockstorage import exception

LOG = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 600.0
GiB = 1024 ** 3

Volume = dict[str, Any]
Snapshot = dict[str, Any]
Connector = dict[str, Any]
ConnectionInfo = dict[str, Any]
ModelUpdate = dict[str, Any]


@dataclasses.dataclass
class CommandResult:
    """What a finished command left: exit status and both outputs (text)."""

    returncode: int
    stdout: str = ""
    stderr: str = ""


class ProcessExecutionError(exception.VolumeDriverException):
    """A command a driver ran failed (the message names it and its stderr)."""

    msg_fmt = "%(cmd)s failed (exit %(code)s): %(stderr)s"


class Runner(Protocol):
    """Runs one command: ``runner(["qemu-img", "info", path])``.

    :raises: ProcessExecutionError when ``check`` and the exit status is not 0.
    """

    def __call__(self, cmd: Sequence[str], check: bool = True,
                 timeout: float = DEFAULT_TIMEOUT) -> CommandResult: ...


def execute(cmd: Sequence[str], check: bool = True,
            timeout: float = DEFAULT_TIMEOUT) -> CommandResult:
    """Run ``cmd`` (no shell) with the C locale; the real :class:`Runner`.

    :raises: ProcessExecutionError when it cannot start, times out, or (with
        ``check``) exits non-zero.
    """
    argv = [str(arg) for arg in cmd]
    LOG.debug("Running %s", " ".join(argv))
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              check=False, env={**os.environ, "LC_ALL": "C"})
    except (OSError, subprocess.TimeoutExpired) as err:
        raise ProcessExecutionError(cmd=" ".join(argv), code="-", stderr=str(err)) from err
    result = CommandResult(done.returncode, done.stdout, done.stderr)
    if check and done.returncode != 0:
        raise ProcessExecutionError(cmd=" ".join(argv), code=done.returncode,
                                    stderr=done.stderr.strip()[-2000:])
    return result


class VolumeDriver(abc.ABC):
    """One storage backend (``[volume] backend_name``) as the manager uses it.

    Methods raise ``blockstorage.exception`` errors (VolumeDriverException,
    VolumeBackendAPIException, ExportFailure, ImageCopyFailure) on failure.
    """

    driver_version = "1.0.0"
    vendor_name = "Open Source"

    def __init__(self, conf: cfg.ConfigOpts, backend_name: str,
                 runner: Runner | None = None) -> None:
        self.conf = conf
        self.backend_name = backend_name
        self.run: Runner = runner or execute
        self._stats: dict[str, Any] = {}

    # -- set-up -------------------------------------------------------------------

    def do_setup(self) -> None:
        """Prepare the backend (directories, volume group, target daemon)."""
        return None

    @abc.abstractmethod
    def check_for_setup_error(self) -> None:
        """:raises: VolumeDriverException when the backend cannot be used."""

    # -- capacity -----------------------------------------------------------------

    def get_stats(self, refresh: bool = False) -> dict[str, Any]:
        """The capacity report the scheduler reads (services.capabilities).

        :param refresh: measure again instead of returning the last report.
        """
        if refresh or not self._stats:
            self._stats = self._update_stats()
        return dict(self._stats)

    @abc.abstractmethod
    def _update_stats(self) -> dict[str, Any]:
        """Measure the backend: the keys listed in the README (services table)."""

    def _base_stats(self, protocol: str) -> dict[str, Any]:
        volume = self.conf.volume
        return {"volume_backend_name": self.backend_name,
                "vendor_name": self.vendor_name,
                "driver_version": self.driver_version,
                "storage_protocol": protocol,
                "reserved_percentage": int(volume.reserved_percentage),
                "max_over_subscription_ratio": float(volume.max_over_subscription_ratio),
                "multiattach": True}

    # -- volumes and snapshots ------------------------------------------------------

    @abc.abstractmethod
    def create_volume(self, volume: Volume) -> ModelUpdate:
        """An empty volume of ``volume['size']`` GiB."""

    @abc.abstractmethod
    def create_volume_from_snapshot(self, volume: Volume, snapshot: Snapshot) -> ModelUpdate:
        """A volume holding the snapshot's data, grown to ``volume['size']``."""

    @abc.abstractmethod
    def create_cloned_volume(self, volume: Volume, src_volume: Volume) -> ModelUpdate:
        """A volume holding ``src_volume``'s data, grown to ``volume['size']``."""

    @abc.abstractmethod
    def delete_volume(self, volume: Volume) -> None:
        """Remove the volume's data; a volume already gone is not an error."""

    @abc.abstractmethod
    def extend_volume(self, volume: Volume, new_size: int) -> None:
        """Grow the volume to ``new_size`` GiB."""

    @abc.abstractmethod
    def create_snapshot(self, snapshot: Snapshot, volume: Volume) -> ModelUpdate:
        """A point-in-time copy of ``volume``."""

    @abc.abstractmethod
    def delete_snapshot(self, snapshot: Snapshot) -> None:
        """Remove the snapshot; one already gone is not an error."""

    @abc.abstractmethod
    def local_path(self, volume: Volume) -> str:
        """The file or block device holding the volume's data on this host."""

    def volume_format(self, volume: Volume) -> str:
        """qemu's name of the format of :meth:`local_path` (``raw``, ``qcow2``)."""
        return "raw"

    # -- images -----------------------------------------------------------------------

    def copy_image_to_volume(self, volume: Volume, image_path: str) -> None:
        """Write the image file ``image_path`` (any qemu format) into the volume.

        The volume exists already (``create_volume`` ran) and keeps its size.

        :raises: ImageCopyFailure when the image is bigger than the volume or
            qemu-img cannot read it.
        """
        info = qemu_img_info(self.run, image_path)
        virtual = int(info.get("virtual-size") or 0)
        if virtual > int(volume["size"]) * GiB:
            raise exception.ImageCopyFailure(
                reason="the image's virtual size (%d bytes) is larger than the volume "
                       "(%s GiB)" % (virtual, volume["size"]))
        self.run(["qemu-img", "convert", "-n", "-f", str(info.get("format", "raw")),
                  "-O", self.volume_format(volume), image_path, self.local_path(volume)])

    def copy_volume_to_image(self, volume: Volume) -> str:
        """A readable file (or device) holding the volume's data, for an upload."""
        return self.local_path(volume)

    # -- exports and connections ----------------------------------------------------------

    def ensure_export(self, volume: Volume) -> None:
        """Re-create the volume's export after a restart (if it had one)."""
        return None

    def remove_export(self, volume: Volume) -> None:
        """Drop the volume's export (no connection left); idempotent."""
        return None

    @abc.abstractmethod
    def initialize_connection(self, volume: Volume, connector: Connector) -> ConnectionInfo:
        """Export the volume to ``connector``'s host; what that host needs to attach."""

    def local_consumer(self, connector: Connector) -> bool:
        """Whether ``connector`` reads the volume's file on this host directly (the
        backup daemon here: ``protocols`` includes ``file``), so no export is made
        for it and none is removed when it lets go."""
        return False

    def terminate_connection(self, volume: Volume, connector: Connector) -> None:
        """``connector``'s host detached (the manager removes the export when no
        connection is left)."""
        return None


def qemu_img_info(run: Runner, path: str) -> dict[str, Any]:
    """``qemu-img info --output=json`` of ``path`` as a dict.

    :raises: ProcessExecutionError, or ImageCopyFailure on unreadable output.
    """
    out = run(["qemu-img", "info", "--output=json", path]).stdout
    try:
        return dict(json.loads(out))
    except ValueError as err:
        raise exception.ImageCopyFailure(reason="qemu-img info of %s: %s" % (path, err))


def size_arg(size_gb: int | str) -> str:
    """``qemu-img``/LVM size argument for ``size_gb`` GiB."""
    return "%dG" % int(size_gb)
