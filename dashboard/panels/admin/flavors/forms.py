"""Flavor forms, with the compute API's own limits checked first."""
from __future__ import annotations

from typing import Any

from django import forms
from django.core import validators

MAX_INT = 2147483647
NAME_RE = r"^(?!\s)[^\x00-\x1f\x7f]*(?<!\s)$"
ID_RE = r"^(?! )[a-zA-Z0-9. _-]+(?<! )$"
SPEC_KEY_RE = r"^[a-zA-Z0-9-_:. ]{1,255}$"


def _count(label: str, minimum: int, help_text: str = "", initial: int | None = None,
           required: bool = True) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=minimum, max_value=MAX_INT,
                              help_text=help_text, initial=initial, required=required)


class CreateFlavorForm(forms.Form):
    name = forms.RegexField(regex=NAME_RE, max_length=255,
                            error_messages={"invalid": "Printable characters, without "
                                                       "leading or trailing spaces."})
    flavor_id = forms.CharField(label="ID", max_length=255, required=False, initial="auto",
                                validators=[validators.RegexValidator(
                                    ID_RE, "Letters, digits, '.', '_', '-' and inner spaces.")],
                                help_text="'auto' (or empty) lets the cloud pick a UUID.")
    vcpus = _count("vCPUs", 1, initial=1)
    ram = _count("RAM (MiB)", 1, initial=512)
    disk = _count("Root Disk (GiB)", 0, "0: the image's size decides.", initial=1)
    ephemeral = _count("Ephemeral Disk (GiB)", 0, initial=0, required=False)
    swap = _count("Swap Disk (MiB)", 0, initial=0, required=False)
    rxtx_factor = forms.FloatField(label="RX/TX Factor", required=False, min_value=0.0001,
                                   help_text="Optional; network bandwidth relative to the "
                                             "network's cap.")
    is_public = forms.BooleanField(label="Public", required=False, initial=True,
                                   help_text="Every project can use it (else only the "
                                             "projects you give access to).")

    def clean_flavor_id(self) -> str | None:
        value = (self.cleaned_data.get("flavor_id") or "").strip()
        return None if value in ("", "auto") else value

    def attrs(self) -> dict[str, Any]:
        """What ``conn.compute.create_flavor`` takes."""
        data = self.cleaned_data
        out: dict[str, Any] = {"name": data["name"], "vcpus": data["vcpus"], "ram": data["ram"],
                               "disk": data["disk"], "ephemeral": data.get("ephemeral") or 0,
                               "swap": data.get("swap") or 0, "is_public": data["is_public"]}
        if data.get("flavor_id"):
            out["id"] = data["flavor_id"]
        if data.get("rxtx_factor") is not None:
            out["rxtx_factor"] = data["rxtx_factor"]
        return out


class ExtraSpecForm(forms.Form):
    key = forms.RegexField(regex=SPEC_KEY_RE, max_length=255,
                           error_messages={"invalid": "Letters, digits, '-', '_', ':', '.' "
                                                      "and spaces."},
                           help_text="e.g. hw:cpu_policy or quota:disk_read_bytes_sec")
    value = forms.CharField(max_length=255, required=False, strip=False)


class AccessForm(forms.Form):
    project = forms.ChoiceField(label="Project")

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].choices = [("", "Select a project")] + choices
