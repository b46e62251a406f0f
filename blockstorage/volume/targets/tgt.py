"""iSCSI exports through the Linux SCSI target daemon (``tgtd``), driven by ``tgtadm``.

One target per volume, named ``<[volume] target_prefix>volume-<id>``, with the
volume's file or device as LUN 1 and one incoming CHAP account (the volume's
``provider_auth``, "CHAP <user> <secret>") bound to it; any initiator address may
log in with those credentials. Targets live only in tgtd's memory: the volume
manager re-creates them at start (``ensure_export``).

tgtadm reaches tgtd through its management socket; ``[volume] tgt_control_port``
picks a tgtd started with ``-C N`` (several tgtd on one host, tests). Target ids
are allocated here (max + 1 under a lock, retried when another process took it).
"""
from __future__ import annotations

import re
import secrets
import string
import threading
from typing import Any

from oslo_config import cfg
from oslo_log import log as logging

from blockstorage import exception
from blockstorage.volume.drivers import base

LOG = logging.getLogger(__name__)

LUN = 1
_TARGET_LINE = re.compile(r"^Target (\d+): (\S+)\s*$")
_ALLOCATE_ATTEMPTS = 5
_SECRET_CHARS = string.ascii_letters + string.digits


def generate_auth() -> str:
    """A fresh ``provider_auth`` value: ``CHAP <user> <secret>`` (secret of 16 chars,
    tgt's CHAP needs 12 to 16)."""
    user = "".join(secrets.choice(_SECRET_CHARS) for _ in range(20))
    secret = "".join(secrets.choice(_SECRET_CHARS) for _ in range(16))
    return "CHAP %s %s" % (user, secret)


def parse_auth(provider_auth: str | None) -> tuple[str, str]:
    """The (user, secret) of a ``CHAP user secret`` string.

    :raises: ExportFailure when it is missing or malformed.
    """
    parts = (provider_auth or "").split()
    if len(parts) != 3 or parts[0] != "CHAP":
        raise exception.ExportFailure(reason="the volume has no CHAP credentials")
    return parts[1], parts[2]


class TgtAdm:
    """Builds and removes one tgt target per volume."""

    def __init__(self, conf: cfg.ConfigOpts, runner: base.Runner | None = None) -> None:
        self.conf = conf
        self.run: base.Runner = runner or base.execute
        self._lock = threading.Lock()

    def iqn(self, volume_id: str) -> str:
        """The target name of volume ``volume_id``."""
        return "%s%s" % (self.conf.volume.target_prefix,
                         self.conf.volume_name_template % volume_id)

    def _tgtadm(self, *args: str, check: bool = True) -> base.CommandResult:
        argv = ["tgtadm", "--lld", "iscsi"]
        if self.conf.volume.tgt_control_port is not None:
            argv += ["--control-port", str(self.conf.volume.tgt_control_port)]
        return self.run(argv + list(args), check=check)

    def targets(self) -> dict[str, int]:
        """The targets tgtd has now: iqn -> tid."""
        out = self._tgtadm("--op", "show", "--mode", "target").stdout
        found: dict[str, int] = {}
        for line in out.splitlines():
            match = _TARGET_LINE.match(line)
            if match:
                found[match.group(2)] = int(match.group(1))
        return found

    def create_target(self, volume_id: str, path: str, provider_auth: str | None) -> int:
        """Export ``path`` as LUN 1 of the volume's target with its CHAP account.

        Idempotent: a target that exists already is kept.

        :returns: the target id.
        :raises: ExportFailure.
        """
        user, secret = parse_auth(provider_auth)
        iqn = self.iqn(volume_id)
        with self._lock:
            existing = self.targets()
            if iqn in existing:
                return existing[iqn]
            tid = self._new_target(iqn, existing)
        try:
            self._tgtadm("--op", "new", "--mode", "logicalunit", "--tid", str(tid),
                         "--lun", str(LUN), "--backing-store", path)
            # An account left by an interrupted export would make "new" fail.
            self._tgtadm("--op", "delete", "--mode", "account", "--user", user, check=False)
            self._tgtadm("--op", "new", "--mode", "account", "--user", user,
                         "--password", secret)
            self._tgtadm("--op", "bind", "--mode", "account", "--tid", str(tid),
                         "--user", user)
            self._tgtadm("--op", "bind", "--mode", "target", "--tid", str(tid),
                         "--initiator-address", "ALL")
        except base.ProcessExecutionError as err:
            self._delete(tid, user)
            raise exception.ExportFailure(reason=err.message) from err
        LOG.info("Exported volume %(id)s as %(iqn)s (tid %(tid)d)",
                 {"id": volume_id, "iqn": iqn, "tid": tid})
        return tid

    def _new_target(self, iqn: str, existing: dict[str, int]) -> int:
        tid = max(existing.values(), default=0) + 1
        for _attempt in range(_ALLOCATE_ATTEMPTS):
            result = self._tgtadm("--op", "new", "--mode", "target", "--tid", str(tid),
                                  "--targetname", iqn, check=False)
            if result.returncode == 0:
                return tid
            if "already exists" not in result.stderr:
                raise exception.ExportFailure(reason="tgtadm: %s" % result.stderr.strip())
            # Another tgtadm user (a second backend on this host) took that id.
            tid += 1
        raise exception.ExportFailure(reason="no free tgt target id near %d" % tid)

    def remove_target(self, volume_id: str, provider_auth: str | None) -> None:
        """Delete the volume's target (sessions or not) and its account; idempotent."""
        iqn = self.iqn(volume_id)
        with self._lock:
            try:
                tid = self.targets().get(iqn)
            except base.ProcessExecutionError as err:
                # No tgtd: its targets (kept in its memory only) are gone with it.
                LOG.warning("Cannot list tgt targets (%s); nothing to remove", err.message)
                return
        user = None
        try:
            user = parse_auth(provider_auth)[0]
        except exception.ExportFailure:
            pass
        if tid is not None:
            self._delete(tid, user)
            LOG.info("Removed target %(iqn)s", {"iqn": iqn})

    def _delete(self, tid: int, user: str | None) -> None:
        self._tgtadm("--op", "delete", "--mode", "target", "--force", "--tid", str(tid),
                     check=False)
        if user:
            self._tgtadm("--op", "delete", "--mode", "account", "--user", user, check=False)

    def connection_info(self, volume: dict[str, Any], access_mode: str) -> dict[str, Any]:
        """What an initiator needs (README: connection info of ``iscsi``)."""
        user, secret = parse_auth(volume.get("provider_auth"))
        return {"driver_volume_type": "iscsi",
                "data": {"target_portal": "%s:%d" % (self.conf.volume.target_ip_address,
                                                     self.conf.volume.target_port),
                         "target_iqn": self.iqn(str(volume["id"])),
                         "target_lun": LUN, "target_discovered": False,
                         "auth_method": "CHAP", "auth_username": user,
                         "auth_password": secret, "volume_id": volume["id"],
                         "access_mode": access_mode, "encrypted": False}}
