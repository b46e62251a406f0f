"""Forms of the Projects panel (validated before any API call)."""
from __future__ import annotations

from typing import Any

from django import forms

NAME_HELP = "Up to 64 characters."


def choices(items: Any, blank: str | None = None) -> list[tuple[str, str]]:
    """(id, name) choices sorted by name; ``blank`` adds an empty first choice."""
    found = sorted(((str(i.id), str(i.name)) for i in items), key=lambda c: c[1].lower())
    return ([("", blank)] if blank is not None else []) + found


def set_choices(form: forms.Form, name: str, options: list[tuple[str, str]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = options


class EditForm(forms.Form):
    name = forms.CharField(max_length=64, help_text=NAME_HELP)
    description = forms.CharField(required=False, max_length=255,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(self, data: Any, initial: dict[str, Any] | None = None,
                 current: bool = False) -> None:
        super().__init__(data, initial=initial)
        self.current = current     # the logged-in admin's own project

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("A project needs a name.")
        return str(name)

    def clean_enabled(self) -> bool:
        enabled = bool(self.cleaned_data.get("enabled"))
        if self.current and not enabled:
            raise forms.ValidationError("You are logged in to this project: switch to "
                                        "another one before you disable it.")
        return enabled


class CreateForm(EditForm):
    field_order = ["name", "description", "domain", "enabled"]
    domain = forms.ChoiceField()

    def __init__(self, data: Any, domains: list[tuple[str, str]], default: str = "") -> None:
        super().__init__(data, initial={"domain": default, "enabled": True})
        set_choices(self, "domain", domains)


class MemberForm(forms.Form):
    user = forms.ChoiceField()
    role = forms.ChoiceField()

    def __init__(self, data: Any, users: list[tuple[str, str]],
                 roles: list[tuple[str, str]]) -> None:
        member = next((rid for rid, name in roles if name == "member"), "")
        super().__init__(data, initial={"role": member})
        set_choices(self, "user", [("", "Choose a user")] + users)
        set_choices(self, "role", roles)
