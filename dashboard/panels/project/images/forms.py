"""Forms of the images panel: create (with the upload), edit, add a member."""
from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from dashboard.panels.project.images import access

PROPERTIES_HELP = ("Other properties, one key=value per line (for example "
                   "hw_disk_bus=virtio). Clear a line to remove that property.")


def visibility_choices(is_admin: bool) -> list[tuple[str, str]]:
    choices = [("private", "Private (this project)"),
               ("shared", "Shared (with projects you add as members)"),
               ("community", "Community (every project, not listed by default)")]
    if is_admin:
        choices.append(("public", "Public (every project)"))
    return choices


def parse_properties(text: str) -> dict[str, str]:
    """``key=value`` lines as a dict. :raises: ValidationError naming the line."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise forms.ValidationError("Line %d is not key=value." % number)
        if len(key) > 255 or len(value) > 255:
            raise forms.ValidationError("Line %d: keys and values are at most 255 "
                                        "characters." % number)
        if key in access.CORE or key in access.NAMED_PROPERTIES or access.read_only(key):
            raise forms.ValidationError("Line %d: %s cannot be set here%s." % (
                number, key, " (it has its own field)" if key in access.CORE
                or key in access.NAMED_PROPERTIES else ""))
        if key in found:
            raise forms.ValidationError("Line %d: %s is given twice." % (number, key))
        found[key] = value
    return found


def format_properties(props: dict[str, str]) -> str:
    return "\n".join("%s=%s" % (k, v) for k, v in sorted(props.items())
                     if k not in access.NAMED_PROPERTIES)


class _ImageFields(forms.Form):
    """What create and edit share."""
    name = forms.CharField(max_length=255)
    visibility = forms.ChoiceField(initial="private")
    protected = forms.BooleanField(required=False,
                                   help_text="A protected image cannot be deleted.")
    min_disk = forms.IntegerField(label="Minimum disk (GiB)", min_value=0, initial=0,
                                  max_value=2 ** 31 - 1)
    min_ram = forms.IntegerField(label="Minimum RAM (MiB)", min_value=0, initial=0,
                                 max_value=2 ** 31 - 1)
    kernel_id = forms.CharField(label="Kernel ID", required=False, max_length=255,
                                help_text="Image ID of the kernel (for AMI images).")
    ramdisk_id = forms.CharField(label="Ramdisk ID", required=False, max_length=255)
    os_distro = forms.CharField(label="OS distribution", required=False, max_length=255,
                                help_text="For example ubuntu, fedora, cirros.")
    properties = forms.CharField(required=False, help_text=PROPERTIES_HELP,
                                 widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, is_admin: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["visibility"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = visibility_choices(is_admin)

    def clean_properties(self) -> dict[str, str]:
        return parse_properties(self.cleaned_data.get("properties") or "")

    def all_properties(self) -> dict[str, str]:
        """The properties the form sets: named fields and the textarea."""
        props = dict(self.cleaned_data.get("properties") or {})
        for key in access.NAMED_PROPERTIES:
            value = (self.cleaned_data.get(key) or "").strip()
            if value:
                props[key] = value
        return props


class CreateForm(_ImageFields):
    image_file = forms.FileField(label="Image file",
                                 help_text="The disk image to upload; its bytes must be "
                                           "in the disk format chosen below.")
    disk_format = forms.ChoiceField(label="Disk format", initial="qcow2",
                                    choices=[(f, f.upper()) for f in access.DISK_FORMATS])
    container_format = forms.ChoiceField(label="Container format", initial="bare",
                                         choices=[(f, f) for f in access.CONTAINER_FORMATS])
    field_order = ["name", "image_file", "disk_format", "container_format", "visibility",
                   "protected", "min_disk", "min_ram", "kernel_id", "ramdisk_id",
                   "os_distro", "properties"]

    def clean_image_file(self) -> Any:
        upload = self.cleaned_data["image_file"]
        limit = int(getattr(settings, "STRATUS_MAX_UPLOAD_MB", 4096))
        if upload.size > limit * 1024 * 1024:
            raise forms.ValidationError("This file is larger than the %d MiB an upload "
                                        "through the dashboard may be." % limit)
        if upload.size == 0:
            raise forms.ValidationError("This file is empty.")
        return upload


class EditForm(_ImageFields):
    pass


class MemberForm(forms.Form):
    project = forms.CharField(label="Project", max_length=255,
                              help_text="The name or ID of the project to share with "
                                        "(another project's name can be looked up by "
                                        "administrators only: otherwise give its ID).")
