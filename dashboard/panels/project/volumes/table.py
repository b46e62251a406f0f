"""The project's volumes table and which row actions Cinder allows when."""
from __future__ import annotations

from typing import Any, Callable
from urllib.parse import urlencode

from django.urls import reverse

from dashboard.panels.project.volumes import common
from dashboard.ui import tables

NS = "project-volumes"
LAUNCH_URL = "/project/instances/launch/"


def url(name: str, ns: str = NS) -> Callable[[Any], str]:
    return lambda v: reverse("%s:%s" % (ns, name), args=[v.id])


def _bootable_available(volume: Any) -> bool:
    return bool(volume.is_bootable) and volume.status == "available"


def _attachable(volume: Any) -> bool:
    return not common.attached(volume) or bool(volume.is_multiattach)


def _editable(volume: Any) -> bool:
    return volume.status not in common.EDITABLE_EXCLUDED


def actions() -> list[tables.Action]:
    """Every row action, each shown only in the statuses Cinder accepts."""
    return [
        tables.Action("Edit", url("edit"), "get", _editable),
        tables.Action("Extend", url("extend"), "get", common.status_in(common.EXTENDABLE)),
        tables.Action("Attach", url("attach"), "get",
                      common.status_in(common.ATTACHABLE, _attachable)),
        tables.Action("Detach", url("detach"), allowed=common.status_in(
            ("in-use",), common.attached), confirm="Detach this volume from its instance?"),
        tables.Action("Create Snapshot", url("snapshot"), "get",
                      common.status_in(common.SNAPSHOTTABLE)),
        tables.Action("Create Backup", url("backup"), "get",
                      common.status_in(common.BACKUPABLE)),
        tables.Action("Upload to Image", url("upload"), "get",
                      common.status_in(common.UPLOADABLE)),
        tables.Action("Launch as Instance",
                      lambda v: LAUNCH_URL + "?" + urlencode({"volume": v.id}), "get",
                      _bootable_available),
        tables.Action("Delete", url("delete"), allowed=common.status_in(
            common.DELETABLE, lambda v: not common.attached(v)), danger=True,
            confirm="Delete this volume? Its data is gone for good."),
    ]


def table(rows: list[Any], names: dict[str, str]) -> tables.Table:
    return tables.Table(
        name="volumes", title="Volumes",
        columns=[
            tables.Column("name", "Name", link=url("detail"), display=lambda v: v.name or v.id),
            tables.Column("description", "Description"),
            tables.Column("size", "Size", display=lambda v: common.size_gib(v.size)),
            tables.Column("status", "Status", status=True),
            tables.Column("volume_type", "Type"),
            tables.Column("attached_to", "Attached to",
                          display=lambda v: common.attached_to(v, names)),
            tables.Column("availability_zone", "Availability zone"),
            tables.Column("bootable", "Bootable", display=lambda v: common.yes(v.is_bootable)),
            tables.Column("encrypted", "Encrypted",
                          display=lambda v: common.yes(v.is_encrypted)),
        ],
        rows=rows, actions=actions(),
        table_actions=[tables.Action("Create Volume", reverse(NS + ":create"), "get")],
        row_url=url("row"), changing=common.changing,
        empty="No volumes: create one with Create Volume.")
