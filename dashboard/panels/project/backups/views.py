"""Volume backups: table (rows refresh while one changes), detail, restore, delete."""
from __future__ import annotations

from typing import Any, Callable

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dashboard.panels.project.volumes import common
from dashboard.ui import forms as ui_forms
from dashboard.ui import format as fmt
from dashboard.ui import tables

NS = "project-backups"


class RestoreForm(forms.Form):
    volume = forms.ChoiceField(label="Restore to", required=False)
    name = forms.CharField(label="New volume name", max_length=255, required=False,
                           help_text="Used when restoring to a new volume.")

    def __init__(self, *args: Any, targets: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["volume"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "A new volume")] + targets
        field.help_text = ("An existing volume is overwritten; only available volumes at "
                           "least as large as the backup are listed.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("volume") and not (data.get("name") or "").strip():
            self.add_error("name", "Name the new volume (or choose a volume to restore to).")
        return data


def _url(name: str) -> Callable[[Any], str]:
    return lambda b: reverse("%s:%s" % (NS, name), args=[b.id])


def actions() -> list[tables.Action]:
    return [
        tables.Action("Restore", _url("restore"), "get",
                      common.status_in(common.BACKUP_RESTORABLE)),
        tables.Action("Delete", _url("delete"), allowed=common.status_in(
            common.BACKUP_DELETABLE), danger=True, confirm="Delete this backup?"),
    ]


def table(rows: list[Any], volumes: dict[str, Any]) -> tables.Table:
    return tables.Table(
        name="backups", title="Volume Backups",
        columns=[
            tables.Column("name", "Name", link=_url("detail"), display=lambda b: b.name or b.id),
            tables.Column("description", "Description"),
            tables.Column("size", "Size", display=lambda b: common.size_gib(b.size)),
            tables.Column("status", "Status", status=True),
            common.volume_column(volumes),
            tables.Column("container", "Container"),
            tables.Column("created_at", "Created", display=lambda b: fmt.when(b.created_at)),
        ],
        rows=rows, actions=actions(), row_url=_url("row"), changing=common.changing,
        empty="No volume backups: make one from a volume's Create Backup.")


def index(request: Any) -> HttpResponse:
    backups = list(common.cinder(request).backups())
    return tables.page(request, "Volume Backups", table(backups, common.volumes_by_id(request)))


def row(request: Any, backup_id: str) -> HttpResponse:
    backup = common.get_backup(request, backup_id)
    return tables.row_response(request, table([backup], common.volumes_by_id(request)), backup)


def detail(request: Any, backup_id: str) -> HttpResponse:
    backup = common.get_backup(request, backup_id)
    volume = common.volumes_by_id(request).get(backup.volume_id) if backup.volume_id else None
    return render(request, "project/backups/detail.html", {
        "title": backup.name or backup.id, "backup": backup, "volume": volume,
        "actions": tables.links(actions(), backup)})


def restore(request: Any, backup_id: str) -> HttpResponse:
    backup = common.get_backup(request, backup_id)
    need = int(backup.size or 0)
    targets = sorted(((v.id, "%s (%d GiB)" % (v.name or v.id, v.size or 0))
                      for v in common.cinder(request).volumes()
                      if v.status == "available" and int(v.size or 0) >= need),
                     key=lambda c: c[1].lower())
    form = RestoreForm(request.POST or None, targets=targets,
                       initial={"name": "%s-restored" % (backup.name or backup.id)})

    def apply(data: dict[str, Any]) -> str:
        storage = common.cinder(request)
        if data["volume"]:
            storage.restore_backup(backup, volume=data["volume"])
            return "Restoring backup %s to volume %s." % (
                backup.name or backup.id, dict(targets)[data["volume"]])
        storage.restore_backup(backup, name=data["name"].strip())
        return "Restoring backup %s to a new volume %s." % (backup.name or backup.id,
                                                            data["name"].strip())

    return ui_forms.form_page(request, form, apply, reverse("project-volumes:index"),
                              "Restore Backup %s" % (backup.name or backup.id),
                              "Restore Backup", template="project/backups/restore.html",
                              cancel_url=reverse(NS + ":index"))


@require_POST
def delete(request: Any, backup_id: str) -> HttpResponse:
    def apply() -> str:
        backup = common.get_backup(request, backup_id)
        common.cinder(request).delete_backup(backup, ignore_missing=False)
        return "Deleting backup %s." % (backup.name or backup.id)

    return ui_forms.act(request, apply, reverse(NS + ":index"))
