"""Server states as Nova names them, and the API ``status`` they map to.

``vm_state`` is what the server is (stable), ``task_state`` what is being done
to it (None when idle), ``power_state`` what the hypervisor last reported
(compute.virt.power_state). The API shows ``status`` derived from the first two.
"""
from __future__ import annotations

# vm_state
ACTIVE = "active"
BUILDING = "building"
PAUSED = "paused"
SUSPENDED = "suspended"
STOPPED = "stopped"
RESCUED = "rescued"
RESIZED = "resized"
SOFT_DELETED = "soft-delete"
DELETED = "deleted"
ERROR = "error"
SHELVED = "shelved"
SHELVED_OFFLOADED = "shelved_offloaded"

# task_state
SCHEDULING = "scheduling"
BLOCK_DEVICE_MAPPING = "block_device_mapping"
NETWORKING = "networking"
SPAWNING = "spawning"
IMAGE_SNAPSHOT = "image_snapshot"
IMAGE_SNAPSHOT_PENDING = "image_snapshot_pending"
IMAGE_PENDING_UPLOAD = "image_pending_upload"
IMAGE_UPLOADING = "image_uploading"
IMAGE_BACKUP = "image_backup"
UPDATING_PASSWORD = "updating_password"
RESIZE_PREP = "resize_prep"
RESIZE_MIGRATING = "resize_migrating"
RESIZE_MIGRATED = "resize_migrated"
RESIZE_FINISH = "resize_finish"
RESIZE_REVERTING = "resize_reverting"
RESIZE_CONFIRMING = "resize_confirming"
REBOOTING = "rebooting"
REBOOT_PENDING = "reboot_pending"
REBOOT_STARTED = "reboot_started"
REBOOTING_HARD = "rebooting_hard"
REBOOT_PENDING_HARD = "reboot_pending_hard"
REBOOT_STARTED_HARD = "reboot_started_hard"
PAUSING = "pausing"
UNPAUSING = "unpausing"
SUSPENDING = "suspending"
RESUMING = "resuming"
POWERING_OFF = "powering-off"
POWERING_ON = "powering-on"
REBUILDING = "rebuilding"
REBUILD_BLOCK_DEVICE_MAPPING = "rebuild_block_device_mapping"
REBUILD_SPAWNING = "rebuild_spawning"
MIGRATING = "migrating"
DELETING = "deleting"
SHELVING = "shelving"
SHELVING_IMAGE_PENDING_UPLOAD = "shelving_image_pending_upload"
SHELVING_IMAGE_UPLOADING = "shelving_image_uploading"
SHELVING_OFFLOADING = "shelving_offloading"
UNSHELVING = "unshelving"
RESCUING = "rescuing"
UNRESCUING = "unrescuing"

# The task states a build passes through; a node that restarts finds an
# instance in one of these and either finishes or fails the build.
BUILD_TASK_STATES = (None, SCHEDULING, BLOCK_DEVICE_MAPPING, NETWORKING, SPAWNING)

# vm_state -> status, with task-state overrides (Nova's state-to-status map).
_STATUS = {
    BUILDING: "BUILD", ACTIVE: "ACTIVE", STOPPED: "SHUTOFF", PAUSED: "PAUSED",
    SUSPENDED: "SUSPENDED", RESCUED: "RESCUE", RESIZED: "VERIFY_RESIZE",
    SOFT_DELETED: "SOFT_DELETED", DELETED: "DELETED", ERROR: "ERROR",
    SHELVED: "SHELVED", SHELVED_OFFLOADED: "SHELVED_OFFLOADED",
}
_TASK_STATUS = {
    ACTIVE: {REBOOTING: "REBOOT", REBOOT_PENDING: "REBOOT", REBOOT_STARTED: "REBOOT",
             REBOOTING_HARD: "HARD_REBOOT", REBOOT_PENDING_HARD: "HARD_REBOOT",
             REBOOT_STARTED_HARD: "HARD_REBOOT", UPDATING_PASSWORD: "PASSWORD",
             REBUILDING: "REBUILD", REBUILD_BLOCK_DEVICE_MAPPING: "REBUILD",
             REBUILD_SPAWNING: "REBUILD", MIGRATING: "MIGRATING",
             RESIZE_PREP: "RESIZE", RESIZE_MIGRATING: "RESIZE",
             RESIZE_MIGRATED: "RESIZE", RESIZE_FINISH: "RESIZE"},
    STOPPED: {REBUILDING: "REBUILD", REBUILD_BLOCK_DEVICE_MAPPING: "REBUILD",
              REBUILD_SPAWNING: "REBUILD", RESIZE_PREP: "RESIZE",
              RESIZE_MIGRATING: "RESIZE", RESIZE_MIGRATED: "RESIZE",
              RESIZE_FINISH: "RESIZE"},
    RESIZED: {RESIZE_REVERTING: "REVERT_RESIZE"},
    ERROR: {REBUILDING: "REBUILD", REBUILD_BLOCK_DEVICE_MAPPING: "REBUILD",
            REBUILD_SPAWNING: "REBUILD"},
}

# What ?status= accepts, and the (vm_state, task_states) each status means.
STATUS_FILTERS = {
    "BUILD": ([BUILDING], None), "ACTIVE": ([ACTIVE], None), "SHUTOFF": ([STOPPED], None),
    "PAUSED": ([PAUSED], None), "SUSPENDED": ([SUSPENDED], None),
    "RESCUE": ([RESCUED], None), "VERIFY_RESIZE": ([RESIZED], None),
    "SOFT_DELETED": ([SOFT_DELETED], None), "DELETED": ([DELETED], None),
    "ERROR": ([ERROR], None), "SHELVED": ([SHELVED], None),
    "SHELVED_OFFLOADED": ([SHELVED_OFFLOADED], None),
    "REBOOT": ([ACTIVE], [REBOOTING, REBOOT_PENDING, REBOOT_STARTED]),
    "HARD_REBOOT": ([ACTIVE], [REBOOTING_HARD, REBOOT_PENDING_HARD, REBOOT_STARTED_HARD]),
    "PASSWORD": ([ACTIVE], [UPDATING_PASSWORD]),
    "REBUILD": ([ACTIVE, STOPPED, ERROR],
                [REBUILDING, REBUILD_BLOCK_DEVICE_MAPPING, REBUILD_SPAWNING]),
    "MIGRATING": ([ACTIVE], [MIGRATING]),
    "RESIZE": ([ACTIVE, STOPPED], [RESIZE_PREP, RESIZE_MIGRATING, RESIZE_MIGRATED,
                                   RESIZE_FINISH]),
    "REVERT_RESIZE": ([RESIZED], [RESIZE_REVERTING]),
}


def status(vm_state: str, task_state: str | None) -> str:
    """The API ``status`` of a server (``UNKNOWN`` for a state Nova does not map)."""
    override = _TASK_STATUS.get(vm_state, {}).get(task_state or "")
    if override:
        return override
    return _STATUS.get(vm_state, "UNKNOWN")
