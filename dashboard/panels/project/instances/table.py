"""The instances table (project and admin), and which row actions Nova allows
in which state (status, task state, lock)."""
from __future__ import annotations

from typing import Any, Callable
from urllib.parse import urlencode

from django.urls import reverse

from dashboard.panels.project.instances import common
from dashboard.ui import format as fmt
from dashboard.ui import tables

PROJECT_NS = "project-instances"
ADMIN_NS = "admin-instances"
# A hard reboot may interrupt these tasks (Nova's rule).
REBOOT_TASKS = (None, "rebooting", "reboot_pending", "reboot_started", "resuming",
                "rebooting_hard", "unpausing", "pausing", "suspending")
SNAPSHOT = ("ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED")
ATTACH = ("ACTIVE", "PAUSED", "SHUTOFF", "VERIFY_RESIZE", "SHELVED")


def state(statuses: tuple[str, ...], tasks: tuple[str | None, ...] = (None,),
          unlocked: bool = True, extra: Callable[[Any], bool] | None = None,
          ) -> Callable[[Any], bool]:
    """A predicate: the server's status is one of ``statuses``, its task state one
    of ``tasks`` (idle by default), it is not locked, and ``extra`` holds."""
    def allowed(server: Any) -> bool:
        if fmt.get(server, "status") not in statuses:
            return False
        if (fmt.get(server, "task_state") or None) not in tasks:
            return False
        if unlocked and fmt.get(server, "is_locked"):
            return False
        return extra(server) if extra else True
    return allowed


def _has_volumes(server: Any) -> bool:
    return bool(common.volume_ids(server))


def _has_addresses(server: Any) -> bool:
    return bool(fmt.get(server, "addresses"))


def _deletable(server: Any) -> bool:
    return fmt.get(server, "task_state") != "deleting" and not fmt.get(server, "is_locked")


def _url(name: str, ns: str = PROJECT_NS) -> Callable[[Any], str]:
    return lambda s: reverse("%s:%s" % (ns, name), args=[s.id])


def _do(action: str) -> Callable[[Any], str]:
    return lambda s: reverse(PROJECT_NS + ":action", args=[s.id, action])


def _floating_ip(server: Any) -> str:
    return "/project/floating_ips/associate/?" + urlencode({"instance_id": server.id})


def project_actions() -> list[tables.Action]:
    """Every row action of a project's instance, each shown only where allowed."""
    return [
        tables.Action("Create Snapshot", _url("snapshot"), "get", state(SNAPSHOT, unlocked=False)),
        tables.Action("Associate Floating IP", _floating_ip, "get",
                      state(SNAPSHOT, REBOOT_TASKS, False, _has_addresses)),
        tables.Action("Attach Volume", _url("attach_volume"), "get", state(ATTACH)),
        tables.Action("Detach Volume", _url("detach_volume"), "get",
                      state(ATTACH, extra=_has_volumes)),
        tables.Action("Resize", _url("resize"), "get", state(("ACTIVE", "SHUTOFF"))),
        tables.Action("Confirm Resize", _do("confirm_resize"), allowed=state(("VERIFY_RESIZE",))),
        tables.Action("Revert Resize", _do("revert_resize"), allowed=state(("VERIFY_RESIZE",))),
        tables.Action("Start", _do("start"), allowed=state(("SHUTOFF",))),
        tables.Action("Stop", _do("stop"), allowed=state(("ACTIVE", "ERROR")),
                      confirm="Stop (shut off) this instance?"),
        tables.Action("Pause", _do("pause"), allowed=state(("ACTIVE",))),
        tables.Action("Unpause", _do("unpause"), allowed=state(("PAUSED",))),
        tables.Action("Suspend", _do("suspend"), allowed=state(("ACTIVE",))),
        tables.Action("Resume", _do("resume"), allowed=state(("SUSPENDED",))),
        tables.Action("Soft Reboot", _do("soft_reboot"), allowed=state(("ACTIVE",))),
        tables.Action("Hard Reboot", _do("hard_reboot"),
                      allowed=state(("ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED", "ERROR"),
                                    REBOOT_TASKS),
                      confirm="Hard reboot this instance? Unsaved data in it may be lost."),
        tables.Action("Lock", _do("lock"),
                      allowed=lambda s: fmt.get(s, "is_locked") is False),
        tables.Action("Unlock", _do("unlock"), allowed=lambda s: bool(fmt.get(s, "is_locked"))),
        tables.Action("Delete Instance", _do("delete"), allowed=_deletable, danger=True,
                      confirm="Delete this instance? This cannot be undone."),
    ]


def admin_actions() -> list[tables.Action]:
    return [tables.Action("Delete Instance", _url("delete", ADMIN_NS), allowed=_deletable,
                          danger=True, confirm="Delete this instance? This cannot be undone.")]


def build(rows: list[Any], names: common.Names, admin: bool = False) -> tables.Table:
    """The table of ``rows`` (servers), names resolved from ``names`` only."""
    ns = ADMIN_NS if admin else PROJECT_NS

    def flavor(s: Any) -> Any:
        return common.flavor_of(s, names.flavors)["name"]

    def project(s: Any) -> Any:
        found = names.projects.get(str(s.project_id))
        return fmt.get(found, "name") if found is not None else s.project_id

    columns = [
        tables.Column("name", "Name", link=_url("detail", ns),
                      display=lambda s: s.name or s.id),
        tables.Column("image", "Image", display=lambda s: common.image_name(s, names.images)),
        tables.Column("addresses", "IP Address", display=common.ip_addresses),
        tables.Column("flavor", "Flavor", display=flavor),
    ]
    if admin:
        columns[:0] = [tables.Column("project", "Project", display=project),
                       tables.Column("host", "Host", display=lambda s: s.compute_host)]
    else:
        columns.append(tables.Column("key_name", "Key Pair"))
    columns += [tables.Column("status", "Status", status=True),
                tables.Column("task_state", "Task")]
    if not admin:
        columns.append(tables.Column("availability_zone", "Availability Zone"))
    columns += [tables.Column("power_state", "Power State", display=common.power_state),
                tables.Column("created_at", "Age", display=lambda s: common.age(s.created_at))]
    launch = tables.Action("Launch Instance", reverse(PROJECT_NS + ":launch"), "get")
    return tables.Table(
        name="instances", title="All Instances" if admin else "Instances", columns=columns,
        rows=rows, actions=admin_actions() if admin else project_actions(),
        table_actions=[] if admin else [launch],
        row_url=_url("row", ns), changing=common.changing,
        empty="No instances." if admin else "No instances yet: launch one.")
