"""Forms of the Containers panel, checking names as Swift does before any call."""
from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from dashboard.panels.project.containers import swift


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise forms.ValidationError("Names cannot hold NUL characters.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise forms.ValidationError("Names must be valid UTF-8 text.") from None


def clean_folder(value: str) -> str:
    """A prefix as a folder path: no leading '/', ends with '/' (or empty)."""
    value = value.strip()
    _check_text(value)
    if value.startswith("/"):
        raise forms.ValidationError("A folder path does not start with '/'.")
    if value and not value.endswith("/"):
        value += "/"
    if "//" in value:
        raise forms.ValidationError("A folder path has no empty segments ('//').")
    return value


class CreateContainerForm(forms.Form):
    name = forms.CharField(max_length=swift.MAX_CONTAINER_NAME, strip=False,
                           help_text="Any characters except '/', up to 256 bytes of UTF-8.")
    public = forms.BooleanField(required=False, label="Public",
                                help_text="Anyone can read and list its objects "
                                          "(read ACL .r:*,.rlistings).")

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        _check_text(name)
        if not name.strip():
            raise forms.ValidationError("Enter a name.")
        if "/" in name:
            raise forms.ValidationError("Container names cannot contain '/'.")
        if name in (".", ".."):
            raise forms.ValidationError("'.' and '..' cannot name a container.")
        if _utf8_len(name) > swift.MAX_CONTAINER_NAME:
            raise forms.ValidationError("The name is %d bytes of UTF-8; at most %d are allowed."
                                        % (_utf8_len(name), swift.MAX_CONTAINER_NAME))
        return name


class UploadForm(forms.Form):
    object_file = forms.FileField(label="File")
    name = forms.CharField(label="Object name", required=False, max_length=swift.MAX_OBJECT_NAME,
                           strip=False,
                           help_text="Defaults to the file's name; may hold '/' "
                                     "to place it in folders.")
    folder = forms.CharField(label="Folder", required=False, max_length=swift.MAX_OBJECT_NAME,
                             help_text="The pseudo-folder (prefix) to upload into, "
                                       "e.g. photos/2024/.")

    def clean_folder(self) -> str:
        return clean_folder(self.cleaned_data.get("folder") or "")

    def clean_object_file(self) -> Any:
        upload = self.cleaned_data["object_file"]
        limit = int(settings.STRATUS_MAX_UPLOAD_MB) * 1024 * 1024
        if upload.size > limit:
            raise forms.ValidationError("The file is larger than the dashboard's upload "
                                        "limit of %d MiB." % settings.STRATUS_MAX_UPLOAD_MB)
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("object_file")
        if upload is None or "folder" not in data:
            return data
        name = data.get("name") or upload.name or ""
        _check_or_add(self, "name", name)
        full = data["folder"] + name.lstrip("/")
        if not name or full.endswith("/"):
            self.add_error("name", "An object name cannot be empty or end with '/'.")
        elif _utf8_len(full) > swift.MAX_OBJECT_NAME:
            self.add_error("name", "The full object name is %d bytes of UTF-8; at most %d "
                                   "are allowed." % (_utf8_len(full), swift.MAX_OBJECT_NAME))
        data["full_name"] = full
        return data


def _check_or_add(form: forms.Form, field: str, text: str) -> None:
    try:
        _check_text(text)
    except forms.ValidationError as err:
        form.add_error(field, err)


class FolderForm(forms.Form):
    name = forms.CharField(label="Folder name", max_length=swift.MAX_OBJECT_NAME,
                           help_text="One folder level: no '/'.")

    def __init__(self, *args: Any, prefix_path: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prefix_path = prefix_path

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        _check_text(name)
        if "/" in name:
            raise forms.ValidationError("A folder name cannot contain '/'.")
        if name in (".", ".."):
            raise forms.ValidationError("'.' and '..' cannot name a folder.")
        full = self.prefix_path + name + "/"
        if _utf8_len(full) > swift.MAX_OBJECT_NAME:
            raise forms.ValidationError("The folder path is longer than %d bytes of UTF-8."
                                        % swift.MAX_OBJECT_NAME)
        return name
