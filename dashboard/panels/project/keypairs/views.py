"""Key pairs: list, create (the private key is downloaded once), import, delete."""
from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from dashboard import cloud
from dashboard.ui import forms as ui_forms
from dashboard.ui import tables

NAME_HELP = "Letters, digits, spaces, '-', '_' and '.'; up to 255 characters."
_PENDING = "stratus_new_private_keys"


class CreateForm(forms.Form):
    name = forms.RegexField(regex=r"^[A-Za-z0-9 _.\-]+$", max_length=255, help_text=NAME_HELP)
    key_type = forms.ChoiceField(label="Key type", choices=[("ssh", "SSH key"), ("x509", "X.509")],
                                 initial="ssh")


class ImportForm(forms.Form):
    name = forms.RegexField(regex=r"^[A-Za-z0-9 _.\-]+$", max_length=255, help_text=NAME_HELP)
    public_key = forms.CharField(label="Public key", widget=forms.Textarea(attrs={"rows": 5}),
                                 help_text="One line: ssh-ed25519 AAAA... or ssh-rsa AAAA...")

    def clean_public_key(self) -> str:
        key = " ".join(self.cleaned_data["public_key"].split())
        if not key.startswith(("ssh-", "ecdsa-")) or len(key.split()) < 2:
            raise forms.ValidationError("This is not an OpenSSH public key "
                                        "(it starts with ssh-ed25519, ssh-rsa or ecdsa-...).")
        return key


def _table(request: Any) -> tables.Table:
    conn = cloud.connection(request)
    return tables.Table(
        name="keypairs", title="Key Pairs",
        columns=[tables.Column("name", "Name",
                               link=lambda k: reverse("project-keypairs:detail", args=[k.name])),
                 tables.Column("type", "Type"),
                 tables.Column("fingerprint", "Fingerprint")],
        rows=list(conn.compute.keypairs()),
        row_id=lambda k: k.name,
        actions=[tables.Action("Delete", lambda k: reverse("project-keypairs:delete",
                                                           args=[k.name]),
                               danger=True, confirm="Delete this key pair?")],
        table_actions=[tables.Action("Create Key Pair", reverse("project-keypairs:create"), "get"),
                       tables.Action("Import Public Key", reverse("project-keypairs:import"),
                                     "get")],
        empty="No key pairs: create one, or import your public key.")


def index(request: Any) -> HttpResponse:
    return tables.page(request, "Key Pairs", _table(request))


def detail(request: Any, name: str) -> HttpResponse:
    key = cloud.connection(request).compute.get_keypair(name)
    return render(request, "project/keypairs/detail.html", {"title": key.name, "key": key})


def create(request: Any) -> HttpResponse:
    created: dict[str, str] = {}

    def apply(data: dict[str, Any]) -> str:
        key = cloud.connection(request).compute.create_keypair(name=data["name"],
                                                               type=data["key_type"])
        pending = request.session.get(_PENDING, {})
        pending[key.name] = key.private_key
        request.session[_PENDING] = pending
        created["name"] = key.name
        return ("Key pair %s created: download its private key now, it is shown only once."
                % key.name)

    return ui_forms.form_page(
        request, CreateForm(request.POST or None), apply,
        lambda: reverse("project-keypairs:created", args=[created["name"]]),
        "Create Key Pair", "Create Key Pair", cancel_url=reverse("project-keypairs:index"))


def created(request: Any, name: str) -> HttpResponse:
    if name not in request.session.get(_PENDING, {}):
        raise Http404("no private key waits for download")
    return render(request, "project/keypairs/created.html", {"title": "Download Key Pair",
                                                             "name": name})


def download(request: Any, name: str) -> HttpResponse:
    pending = request.session.get(_PENDING, {})
    private = pending.pop(name, None)
    if private is None:
        raise Http404("the private key was downloaded already")
    request.session[_PENDING] = pending
    resp = HttpResponse(private, content_type="application/x-pem-file")
    resp["Content-Disposition"] = 'attachment; filename="%s.pem"' % name.replace('"', "")
    return resp


def import_key(request: Any) -> HttpResponse:
    def apply(data: dict[str, Any]) -> str:
        cloud.connection(request).compute.create_keypair(name=data["name"],
                                                         public_key=data["public_key"])
        return "Key pair %s imported." % data["name"]

    return ui_forms.form_page(request, ImportForm(request.POST or None), apply,
                              reverse("project-keypairs:index"), "Import Public Key", "Import")


def delete(request: Any, name: str) -> HttpResponse:
    def apply() -> str:
        cloud.connection(request).compute.delete_keypair(name, ignore_missing=False)
        return "Key pair %s deleted." % name

    if request.method != "POST":
        return HttpResponse(status=405)
    return ui_forms.act(request, apply, reverse("project-keypairs:index"))
