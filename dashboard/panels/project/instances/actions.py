"""Row actions on an instance: the POST ones (power, reboot, resize confirm,
lock, delete) and the form ones (resize, snapshot, attach and detach volume)."""
from __future__ import annotations

from typing import Any, Callable

from django import forms
from django.http import Http404, HttpResponse
from django.urls import reverse

from dashboard import cloud
from dashboard.panels.project.instances import common
from dashboard.ui import format as fmt
from dashboard.ui import forms as ui_forms

INDEX = "project-instances:index"
FORM = "project/instances/form.html"

# name -> (call on the compute proxy with the server, what to say afterwards)
_POST: dict[str, tuple[Callable[[Any, Any], Any], str]] = {
    "start": (lambda c, s: c.start_server(s), "Starting instance %s."),
    "stop": (lambda c, s: c.stop_server(s), "Stopping instance %s."),
    "soft_reboot": (lambda c, s: c.reboot_server(s, "SOFT"), "Rebooting instance %s."),
    "hard_reboot": (lambda c, s: c.reboot_server(s, "HARD"), "Hard rebooting instance %s."),
    "pause": (lambda c, s: c.pause_server(s), "Pausing instance %s."),
    "unpause": (lambda c, s: c.unpause_server(s), "Unpausing instance %s."),
    "suspend": (lambda c, s: c.suspend_server(s), "Suspending instance %s."),
    "resume": (lambda c, s: c.resume_server(s), "Resuming instance %s."),
    "confirm_resize": (lambda c, s: c.confirm_server_resize(s), "Resize of %s confirmed."),
    "revert_resize": (lambda c, s: c.revert_server_resize(s), "Reverting the resize of %s."),
    "lock": (lambda c, s: c.lock_server(s), "Instance %s locked."),
    "unlock": (lambda c, s: c.unlock_server(s), "Instance %s unlocked."),
    "delete": (lambda c, s: c.delete_server(s), "Deleting instance %s."),
}
DEVICE = r"^/dev/x?[a-z]d[a-z]+\d*$"


def action(request: Any, server_id: str, name: str) -> HttpResponse:
    """POST /project/instances/<id>/action/<name>/"""
    if name not in _POST:
        raise Http404("no such instance action")
    if request.method != "POST":
        return HttpResponse(status=405)
    call, note = _POST[name]
    server = common.server_for_project(request, server_id)

    def apply() -> str:
        call(cloud.connection(request).compute, server)
        return note % (server.name or server.id)

    return ui_forms.act(request, apply, reverse(INDEX))


class ResizeForm(forms.Form):
    flavor = forms.ChoiceField(label="New flavor")


class SnapshotForm(forms.Form):
    name = forms.CharField(label="Snapshot name", max_length=255)


class AttachForm(forms.Form):
    volume = forms.ChoiceField(label="Volume")
    device = forms.RegexField(label="Device name", regex=DEVICE, required=False,
                              help_text="Optional, e.g. /dev/vdb; the cloud picks one if empty.")


class DetachForm(forms.Form):
    volume = forms.ChoiceField(label="Volume")


def resize(request: Any, server_id: str) -> HttpResponse:
    conn = cloud.connection(request)
    server = common.server_for_project(request, server_id)
    flavors = list(conn.compute.flavors())
    current = common.flavor_of(server, common.by_id(flavors))
    form = ResizeForm(request.POST or None)
    form.fields["flavor"].choices = [("", "Select a flavor")] + [
        (str(f.id), common.flavor_label(f)) for f in flavors
        if str(f.id) != str(current["id"]) and f.name != current["name"]]

    def apply(data: dict[str, Any]) -> str:
        conn.compute.resize_server(server, data["flavor"])
        return ("Resizing instance %s: confirm or revert the resize when it is ready."
                % (server.name or server.id))

    return ui_forms.form_page(
        request, form, apply, reverse(INDEX), "Resize Instance %s" % (server.name or server.id),
        "Resize", template=FORM, extra={"intro": "Current flavor: %s" % current["name"]})


def snapshot(request: Any, server_id: str) -> HttpResponse:
    server = common.server_for_project(request, server_id)
    form = SnapshotForm(request.POST or None,
                        initial={"name": "%s-snapshot" % (server.name or server.id)})

    def apply(data: dict[str, Any]) -> str:
        cloud.connection(request).compute.create_server_image(server, data["name"])
        return "Snapshot %s of instance %s is being created." % (data["name"],
                                                                 server.name or server.id)

    return ui_forms.form_page(request, form, apply, reverse(INDEX),
                              "Create Snapshot of %s" % (server.name or server.id),
                              "Create Snapshot")


def attach_volume(request: Any, server_id: str) -> HttpResponse:
    conn = cloud.connection(request)
    server = common.server_for_project(request, server_id)
    project = request.stratus_user.project_id
    volumes = [v for v in conn.block_storage.volumes(status="available")
               if v.status == "available" and (v.project_id in (None, project))]
    form = AttachForm(request.POST or None)
    form.fields["volume"].choices = [("", "Select a volume")] + [
        (v.id, "%s (%s)" % (v.name or v.id, fmt.size(v.size, "GiB"))) for v in volumes]

    def apply(data: dict[str, Any]) -> str:
        attrs = {"device": data["device"]} if data.get("device") else {}
        conn.compute.create_volume_attachment(server, volume=data["volume"], **attrs)
        return "Attaching the volume to instance %s." % (server.name or server.id)

    return ui_forms.form_page(
        request, form, apply, reverse(INDEX),
        "Attach Volume to %s" % (server.name or server.id), "Attach Volume", template=FORM,
        extra={"intro": "" if volumes else "The project has no available volume to attach."})


def _is_root(server: Any, volume: Any) -> bool:
    """The boot volume of a server booted from volume (Nova refuses to detach it).
    Its attachment's device is the root device, or none where the cloud does not
    record one."""
    if volume is None or common.image_id_of(server):
        return False
    roots = (fmt.get(server, "root_device_name") or "/dev/vda", None)
    return any(a.get("server_id") == server.id and a.get("device") in roots
               for a in fmt.get(volume, "attachments") or [])


def detach_volume(request: Any, server_id: str) -> HttpResponse:
    conn = cloud.connection(request)
    server = common.server_for_project(request, server_id)
    known = common.by_id(conn.block_storage.volumes()) if common.volume_ids(server) else {}
    attached = [vid for vid in common.volume_ids(server)
                if not _is_root(server, known.get(vid))]
    form = DetachForm(request.POST or None)
    form.fields["volume"].choices = [("", "Select a volume")] + [
        (vid, fmt.get(known.get(vid), "name") or vid) for vid in attached]

    def apply(data: dict[str, Any]) -> str:
        conn.compute.delete_volume_attachment(server, data["volume"], ignore_missing=False)
        return "Detaching the volume from instance %s." % (server.name or server.id)

    return ui_forms.form_page(
        request, form, apply, reverse(INDEX),
        "Detach Volume from %s" % (server.name or server.id), "Detach Volume", template=FORM,
        extra={"intro": "" if attached else "No volume can be detached from this instance "
                                            "(a boot volume stays attached)."})
