"""Forms of the volumes panel. Each validates what Cinder would refuse before
the call is made (sizes, sources, choices)."""
from __future__ import annotations

import math
from typing import Any

from django import forms

GIB = 1024 ** 3
MAX_GIB = 2 ** 31 - 1
SOURCES = [("", "No source: an empty volume"), ("image", "Image"),
           ("snapshot", "Volume snapshot"), ("volume", "Another volume")]
UPLOAD_FORMATS = ("raw", "qcow2", "vmdk", "vdi", "vhd", "vhdx", "ploop")


def _set_choices(form: forms.Form, name: str, choices: list[tuple[str, str]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


def image_min_gib(image: Any) -> int:
    """The smallest volume ``image`` fits in: its min_disk, its size."""
    need = int(image.min_disk or 0)
    for size in (image.size, image.virtual_size):
        if size:
            need = max(need, math.ceil(int(size) / GIB))
    return max(need, 1)


class CreateForm(forms.Form):
    name = forms.CharField(max_length=255, required=False)
    description = forms.CharField(max_length=255, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    source = forms.ChoiceField(label="Volume source", choices=SOURCES, required=False)
    image = forms.ChoiceField(label="Image", required=False,
                              help_text="Used when the source is Image.")
    snapshot = forms.ChoiceField(label="Snapshot", required=False,
                                 help_text="Used when the source is Volume snapshot.")
    volume = forms.ChoiceField(label="Source volume", required=False,
                               help_text="Used when the source is Another volume.")
    size = forms.IntegerField(label="Size (GiB)", min_value=1, max_value=MAX_GIB, initial=1)
    volume_type = forms.ChoiceField(label="Type", required=False)
    availability_zone = forms.ChoiceField(label="Availability zone", required=False)

    def __init__(self, *args: Any, images: dict[str, Any], snapshots: dict[str, Any],
                 volumes: dict[str, Any], types: list[str], zones: list[str],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.images, self.snapshots, self.volumes = images, snapshots, volumes
        _set_choices(self, "image", [("", "-")] + sorted(
            ((i, "%s (min %d GiB)" % (img.name or i, image_min_gib(img)))
             for i, img in images.items()), key=lambda c: c[1].lower()))
        _set_choices(self, "snapshot", [("", "-")] + sorted(
            ((i, "%s (%d GiB)" % (s.name or i, s.size or 0)) for i, s in snapshots.items()),
            key=lambda c: c[1].lower()))
        _set_choices(self, "volume", [("", "-")] + sorted(
            ((i, "%s (%d GiB)" % (v.name or i, v.size or 0)) for i, v in volumes.items()),
            key=lambda c: c[1].lower()))
        _set_choices(self, "volume_type", [("", "Default type")] + [(t, t) for t in types])
        _set_choices(self, "availability_zone",
                     [("", "Any availability zone")] + [(z, z) for z in zones])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        source, size = data.get("source"), data.get("size")
        if source and source in self.errors:
            return data
        chosen = str(data.get(source) or "") if source else ""
        if source and not chosen:
            self.add_error(source, "Choose the %s to create the volume from."
                           % dict(SOURCES)[source].lower())
            return data
        need, what = 1, ""
        if source == "image":
            need, what = image_min_gib(self.images[chosen]), "the image"
        elif source == "snapshot":
            need, what = int(self.snapshots[chosen].size or 1), "the snapshot"
        elif source == "volume":
            need, what = int(self.volumes[chosen].size or 1), "the source volume"
        if size is not None and size < need:
            self.add_error("size", "The volume must be at least %d GiB to hold %s."
                           % (need, what))
        return data


class ExtendForm(forms.Form):
    new_size = forms.IntegerField(label="New size (GiB)", min_value=1, max_value=MAX_GIB)

    def __init__(self, *args: Any, current: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current = current
        self.fields["new_size"].help_text = "Now %d GiB; a volume can only grow." % current

    def clean_new_size(self) -> int:
        size = int(self.cleaned_data["new_size"])
        if size <= self.current:
            raise forms.ValidationError("The new size must be more than the current "
                                        "%d GiB." % self.current)
        return size


class AttachForm(forms.Form):
    server = forms.ChoiceField(label="Instance")

    def __init__(self, *args: Any, servers: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "server", [("", "Choose an instance")] + servers)


class SnapshotForm(forms.Form):
    name = forms.CharField(max_length=255)
    description = forms.CharField(max_length=255, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))


class BackupForm(forms.Form):
    name = forms.CharField(max_length=255)
    description = forms.CharField(max_length=255, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    container = forms.RegexField(regex=r"^[^/]+$", max_length=255, required=False,
                                 help_text="Object store container for the backup "
                                           "(empty: the cloud's default).",
                                 error_messages={"invalid": "A container name has no '/'."})
    incremental = forms.BooleanField(required=False, initial=False,
                                     help_text="Only what changed since the last backup "
                                               "of this volume.")


class UploadForm(forms.Form):
    image_name = forms.CharField(label="Image name", max_length=255)
    disk_format = forms.ChoiceField(label="Disk format", initial="raw",
                                    choices=[(f, f.upper()) for f in UPLOAD_FORMATS])


class EditForm(forms.Form):
    name = forms.CharField(max_length=255, required=False)
    description = forms.CharField(max_length=255, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    bootable = forms.BooleanField(required=False,
                                  help_text="Instances can be launched from it.")
