"""Forms of the Users panel (validated before any API call)."""
from __future__ import annotations

from typing import Any

from django import forms

from dashboard.panels.admin.projects.forms import set_choices

PASSWORD_MAX = 4096


def _password(label: str) -> forms.CharField:
    return forms.CharField(label=label, min_length=1, max_length=PASSWORD_MAX, strip=False,
                           widget=forms.PasswordInput(render_value=False))


class PasswordForm(forms.Form):
    password = _password("Password")
    confirm = _password("Confirm password")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("confirm") is not None \
                and data["password"] != data["confirm"]:
            self.add_error("confirm", "The two passwords do not match.")
        return data


class _UserFields(forms.Form):
    name = forms.CharField(max_length=255)
    email = forms.EmailField(required=False, max_length=255)
    project = forms.ChoiceField(label="Primary project", required=False)
    description = forms.CharField(required=False, max_length=255,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    enabled = forms.BooleanField(required=False, initial=True)

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        if not name:
            raise forms.ValidationError("A user needs a name.")
        return name


class EditForm(_UserFields):
    def __init__(self, data: Any, projects: list[tuple[str, str]],
                 initial: dict[str, Any], is_self: bool = False) -> None:
        super().__init__(data, initial=initial)
        set_choices(self, "project", [("", "No primary project")] + projects)
        self.is_self = is_self

    def clean_enabled(self) -> bool:
        enabled = bool(self.cleaned_data.get("enabled"))
        if self.is_self and not enabled:
            raise forms.ValidationError("You cannot disable yourself.")
        return enabled


class CreateForm(_UserFields, PasswordForm):
    field_order = ["name", "email", "password", "confirm", "domain", "project", "role",
                   "description", "enabled"]
    domain = forms.ChoiceField()
    role = forms.ChoiceField(label="Role on the primary project", required=False)

    def __init__(self, data: Any, domains: list[tuple[str, str]],
                 projects: list[tuple[str, str]], roles: list[tuple[str, str]]) -> None:
        member = next((rid for rid, name in roles if name == "member"), "")
        default = next((i for i, _ in domains if i == "default"), "")
        super().__init__(data, initial={"role": member, "domain": default, "enabled": True})
        set_choices(self, "domain", domains)
        set_choices(self, "project", [("", "No primary project")] + projects)
        set_choices(self, "role", [("", "No role")] + roles)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("project") and not data.get("role"):
            self.add_error("role", "Choose the user's role on its primary project.")
        return data
