"""Statuses of volumes, snapshots, backups and attachments (exactly Cinder's
strings) and the transitions between them.

The stores' compare-and-set updates take the ``expected`` statuses from the
caller; the transition tables here document which moves are legal and let
``check_*`` reject an illegal one before it is attempted (``reset-status`` by
an admin bypasses them, as in Cinder).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

# -- volumes -----------------------------------------------------------------------

CREATING = "creating"
AVAILABLE = "available"
RESERVED = "reserved"
ATTACHING = "attaching"
IN_USE = "in-use"
DETACHING = "detaching"
MAINTENANCE = "maintenance"
DELETING = "deleting"
ERROR = "error"
ERROR_DELETING = "error_deleting"
ERROR_EXTENDING = "error_extending"
EXTENDING = "extending"
DOWNLOADING = "downloading"
UPLOADING = "uploading"
RETYPING = "retyping"
BACKING_UP = "backing-up"
RESTORING_BACKUP = "restoring-backup"
ERROR_RESTORING = "error_restoring"
AWAITING_TRANSFER = "awaiting-transfer"

VOLUME_STATUSES = frozenset({
    CREATING, AVAILABLE, RESERVED, ATTACHING, IN_USE, DETACHING, MAINTENANCE, DELETING,
    ERROR, ERROR_DELETING, ERROR_EXTENDING, EXTENDING, DOWNLOADING, UPLOADING, RETYPING,
    BACKING_UP, RESTORING_BACKUP, ERROR_RESTORING, AWAITING_TRANSFER})

# volumes.attach_status
ATTACHED = "attached"
DETACHED = "detached"
VOLUME_ATTACH_STATUSES = frozenset({ATTACHED, DETACHED, ATTACHING, DETACHING, RESERVED,
                                    "error_attaching", "error_detaching"})

# The statuses a user may delete a volume from (with ``cascade`` its snapshots go too).
VOLUME_DELETABLE = frozenset({AVAILABLE, ERROR, ERROR_RESTORING, ERROR_EXTENDING,
                              ERROR_DELETING})

# What a volume may become next. Errors are reachable from every working status
# (the daemon failed); ``reset-status`` ignores this table.
VOLUME_TRANSITIONS: Mapping[str, frozenset[str]] = {
    CREATING: frozenset({AVAILABLE, ERROR, DOWNLOADING, DELETING}),
    DOWNLOADING: frozenset({AVAILABLE, ERROR}),
    AVAILABLE: frozenset({RESERVED, ATTACHING, IN_USE, DELETING, EXTENDING, UPLOADING,
                          RETYPING, BACKING_UP, RESTORING_BACKUP, MAINTENANCE,
                          AWAITING_TRANSFER}),
    RESERVED: frozenset({ATTACHING, IN_USE, AVAILABLE}),
    ATTACHING: frozenset({IN_USE, AVAILABLE, RESERVED, ERROR}),
    IN_USE: frozenset({DETACHING, AVAILABLE, RESERVED, ATTACHING, UPLOADING, RETYPING,
                       BACKING_UP, EXTENDING}),
    DETACHING: frozenset({AVAILABLE, IN_USE}),
    MAINTENANCE: frozenset({AVAILABLE, IN_USE, ERROR}),
    EXTENDING: frozenset({AVAILABLE, IN_USE, ERROR_EXTENDING}),
    ERROR_EXTENDING: frozenset({DELETING, EXTENDING}),
    UPLOADING: frozenset({AVAILABLE, IN_USE, ERROR}),
    RETYPING: frozenset({AVAILABLE, IN_USE, ERROR}),
    BACKING_UP: frozenset({AVAILABLE, IN_USE, ERROR}),
    RESTORING_BACKUP: frozenset({AVAILABLE, ERROR_RESTORING}),
    ERROR_RESTORING: frozenset({DELETING, RESTORING_BACKUP}),
    AWAITING_TRANSFER: frozenset({AVAILABLE}),
    DELETING: frozenset({ERROR_DELETING}),
    ERROR_DELETING: frozenset({DELETING}),
    ERROR: frozenset({DELETING}),
}

# -- snapshots (same strings, their own set) --------------------------------------------

RESTORING = "restoring"
SNAPSHOT_STATUSES = frozenset({CREATING, AVAILABLE, DELETING, ERROR, ERROR_DELETING,
                               BACKING_UP, RESTORING})
SNAPSHOT_TRANSITIONS: Mapping[str, frozenset[str]] = {
    CREATING: frozenset({AVAILABLE, ERROR, DELETING}),
    AVAILABLE: frozenset({DELETING, BACKING_UP, RESTORING}),
    BACKING_UP: frozenset({AVAILABLE, ERROR}),
    RESTORING: frozenset({AVAILABLE, ERROR}),
    DELETING: frozenset({ERROR_DELETING}),
    ERROR_DELETING: frozenset({DELETING}),
    ERROR: frozenset({DELETING}),
}
SNAPSHOT_DELETABLE = frozenset({AVAILABLE, ERROR, ERROR_DELETING})

# -- backups ---------------------------------------------------------------------------

BACKUP_STATUSES = frozenset({CREATING, AVAILABLE, DELETING, ERROR, ERROR_DELETING,
                             RESTORING})
BACKUP_TRANSITIONS: Mapping[str, frozenset[str]] = {
    CREATING: frozenset({AVAILABLE, ERROR}),
    AVAILABLE: frozenset({DELETING, RESTORING}),
    RESTORING: frozenset({AVAILABLE}),
    DELETING: frozenset({ERROR_DELETING}),
    ERROR_DELETING: frozenset({DELETING}),
    ERROR: frozenset({DELETING}),
}
BACKUP_DELETABLE = frozenset({AVAILABLE, ERROR})

# -- attachments (volume_attachments.attach_status) ------------------------------------

ATTACH_RESERVED = RESERVED
ATTACH_ATTACHING = ATTACHING
ATTACH_ATTACHED = ATTACHED
ATTACH_DETACHING = DETACHING
ATTACH_DETACHED = DETACHED
ATTACH_ERROR_ATTACHING = "error_attaching"
ATTACH_ERROR_DETACHING = "error_detaching"
ATTACHMENT_STATUSES = frozenset({ATTACH_RESERVED, ATTACH_ATTACHING, ATTACH_ATTACHED,
                                 ATTACH_DETACHING, ATTACH_DETACHED, ATTACH_ERROR_ATTACHING,
                                 ATTACH_ERROR_DETACHING})
ATTACHMENT_TRANSITIONS: Mapping[str, frozenset[str]] = {
    ATTACH_RESERVED: frozenset({ATTACH_ATTACHING, ATTACH_ATTACHED, ATTACH_DETACHED,
                                ATTACH_ERROR_ATTACHING}),
    ATTACH_ATTACHING: frozenset({ATTACH_ATTACHED, ATTACH_ERROR_ATTACHING,
                                 ATTACH_DETACHED}),
    ATTACH_ATTACHED: frozenset({ATTACH_DETACHING, ATTACH_DETACHED}),
    ATTACH_DETACHING: frozenset({ATTACH_DETACHED, ATTACH_ERROR_DETACHING}),
    ATTACH_ERROR_ATTACHING: frozenset({ATTACH_DETACHED, ATTACH_ATTACHING}),
    ATTACH_ERROR_DETACHING: frozenset({ATTACH_DETACHED, ATTACH_DETACHING}),
    ATTACH_DETACHED: frozenset(),
}

ACCESS_RW = "rw"
ACCESS_RO = "ro"


def allowed(transitions: Mapping[str, Iterable[str]], current: str, new: str) -> bool:
    """Whether a status may move from ``current`` to ``new``.

    Staying in place is always allowed (an idempotent update).

    :param transitions: one of the ``*_TRANSITIONS`` tables.
    :param current: the status now.
    :param new: the status wanted.
    """
    return current == new or new in transitions.get(current, ())


def sources(transitions: Mapping[str, Iterable[str]], new: str) -> list[str]:
    """Every status from which ``new`` is reachable, sorted: the ``expected``
    list of a compare-and-set update that moves something to ``new``."""
    return sorted(cur for cur, nxt in transitions.items() if new in nxt)
