"""The volume form pages: create, edit, extend, attach, snapshot, backup and
upload to an image."""
from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.urls import reverse

from dashboard import cloud
from dashboard.panels.project.images import views as image_views
from dashboard.panels.project.volumes import common
from dashboard.panels.project.volumes import forms as volume_forms
from dashboard.ui import forms as ui_forms

NS = "project-volumes"
# Server statuses Nova attaches volumes in.
ATTACH_SERVER_STATUSES = ("ACTIVE", "PAUSED", "SHUTOFF", "SUSPENDED", "SHELVED",
                          "SHELVED_OFFLOADED")


def _label(item: Any) -> str:
    return str(item.name or item.id)


def _sources(request: Any) -> dict[str, dict[str, Any]]:
    """What a volume can be made from: one list call per kind."""
    storage = common.cinder(request)
    images: dict[str, Any] = {}
    if "image" in request.stratus_user.services:
        images = {i.id: i for i in image_views.listed(request) if i.status == "active"}
    snapshots = {s.id: s for s in storage.snapshots() if s.status == "available"}
    volumes = {v.id: v for v in storage.volumes() if v.status in ("available", "in-use")}
    return {"images": images, "snapshots": snapshots, "volumes": volumes}


def _initial(request: Any, sources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The form prefilled from ?image=, ?snapshot= or ?volume=."""
    for kind, pool in (("image", "images"), ("snapshot", "snapshots"), ("volume", "volumes")):
        wanted = request.GET.get(kind)
        if wanted and wanted in sources[pool]:
            item = sources[pool][wanted]
            size = (volume_forms.image_min_gib(item) if kind == "image"
                    else int(item.size or 1))
            return {"source": kind, kind: wanted, "size": size,
                    "name": "" if kind == "image" else "%s-copy" % _label(item)}
    return {"size": 1}


def create(request: Any) -> HttpResponse:
    storage = common.cinder(request)
    sources = _sources(request)
    types = sorted(t.name for t in storage.types())
    zones = sorted(z.name for z in storage.availability_zones()
                   if (z.state or {}).get("available", True))
    form = volume_forms.CreateForm(request.POST or None, initial=_initial(request, sources),
                                   types=types, zones=zones, **sources)

    def apply(data: dict[str, Any]) -> str:
        attrs: dict[str, Any] = {"name": data["name"] or None,
                                 "description": data["description"] or None,
                                 "size": data["size"]}
        if data["volume_type"]:
            attrs["volume_type"] = data["volume_type"]
        if data["availability_zone"]:
            attrs["availability_zone"] = data["availability_zone"]
        source = data["source"]
        if source == "image":
            attrs["image_id"] = data["image"]
        elif source == "snapshot":
            attrs["snapshot_id"] = data["snapshot"]
        elif source == "volume":
            attrs["source_volume_id"] = data["volume"]
        volume = storage.create_volume(**attrs)
        return "Creating volume %s." % (volume.name or volume.id)

    return ui_forms.form_page(request, form, apply, reverse(NS + ":index"), "Create Volume",
                              "Create Volume", template="project/volumes/create.html")


def edit(request: Any, volume_id: str) -> HttpResponse:
    volume = common.get_volume(request, volume_id)
    form = volume_forms.EditForm(request.POST or None, initial={
        "name": volume.name, "description": volume.description,
        "bootable": bool(volume.is_bootable)})

    def apply(data: dict[str, Any]) -> str:
        storage = common.cinder(request)
        if (data["name"], data["description"]) != (volume.name or "", volume.description or ""):
            storage.update_volume(volume, name=data["name"], description=data["description"])
        if data["bootable"] != bool(volume.is_bootable):
            storage.set_volume_bootable_status(volume, data["bootable"])
        return "Volume %s updated." % (data["name"] or volume.id)

    return ui_forms.form_page(request, form, apply, reverse(NS + ":index"),
                              "Edit Volume %s" % _label(volume), "Save")


def extend(request: Any, volume_id: str) -> HttpResponse:
    volume = common.get_volume(request, volume_id)
    form = volume_forms.ExtendForm(request.POST or None, current=int(volume.size or 0),
                                   initial={"new_size": int(volume.size or 0) + 1})

    def apply(data: dict[str, Any]) -> str:
        common.cinder(request).extend_volume(volume, data["new_size"])
        return "Extending volume %s to %d GiB." % (_label(volume), data["new_size"])

    return ui_forms.form_page(request, form, apply, reverse(NS + ":index"),
                              "Extend Volume %s" % _label(volume), "Extend Volume")


def attach(request: Any, volume_id: str) -> HttpResponse:
    volume = common.get_volume(request, volume_id)
    compute = cloud.connection(request).compute
    servers = sorted(((s.id, "%s (%s)" % (_label(s), s.status)) for s in compute.servers()
                      if s.status in ATTACH_SERVER_STATUSES), key=lambda c: c[1].lower())
    form = volume_forms.AttachForm(request.POST or None, servers=servers)
    if not servers:
        form.fields["server"].help_text = "This project has no instance to attach it to."

    def apply(data: dict[str, Any]) -> str:
        compute.create_volume_attachment(data["server"], volume=volume.id)
        return "Attaching volume %s to %s." % (_label(volume), dict(servers)[data["server"]])

    return ui_forms.form_page(request, form, apply, reverse(NS + ":index"),
                              "Attach Volume %s" % _label(volume), "Attach Volume")


def snapshot(request: Any, volume_id: str) -> HttpResponse:
    volume = common.get_volume(request, volume_id)
    form = volume_forms.SnapshotForm(request.POST or None,
                                     initial={"name": "%s-snapshot" % _label(volume)})

    def apply(data: dict[str, Any]) -> str:
        snap = common.cinder(request).create_snapshot(
            volume_id=volume.id, name=data["name"], description=data["description"] or None,
            is_forced=volume.status == "in-use")
        return "Creating snapshot %s." % (snap.name or data["name"])

    return ui_forms.form_page(request, form, apply, reverse("project-snapshots:index"),
                              "Create Snapshot of %s" % _label(volume), "Create Snapshot",
                              cancel_url=reverse(NS + ":index"))


def backup(request: Any, volume_id: str) -> HttpResponse:
    volume = common.get_volume(request, volume_id)
    form = volume_forms.BackupForm(request.POST or None,
                                   initial={"name": "%s-backup" % _label(volume)})

    def apply(data: dict[str, Any]) -> str:
        attrs: dict[str, Any] = {"volume_id": volume.id, "name": data["name"],
                                 "description": data["description"] or None,
                                 "is_incremental": data["incremental"],
                                 "force": volume.status == "in-use"}
        if data["container"]:
            attrs["container"] = data["container"]
        made = common.cinder(request).create_backup(**attrs)
        return "Creating backup %s." % (made.name or data["name"])

    return ui_forms.form_page(request, form, apply, reverse("project-backups:index"),
                              "Create Backup of %s" % _label(volume), "Create Backup",
                              cancel_url=reverse(NS + ":index"))


def upload(request: Any, volume_id: str) -> HttpResponse:
    volume = common.get_volume(request, volume_id)
    form = volume_forms.UploadForm(request.POST or None, initial={"image_name": _label(volume)})

    def apply(data: dict[str, Any]) -> str:
        common.cinder(request).upload_volume_to_image(
            volume, data["image_name"], force=volume.status == "in-use",
            disk_format=data["disk_format"], container_format="bare")
        return ("Uploading volume %s to image %s; the image appears in Images when done."
                % (_label(volume), data["image_name"]))

    return ui_forms.form_page(request, form, apply, reverse(NS + ":index"),
                              "Upload Volume %s to an Image" % _label(volume),
                              "Upload to Image")
