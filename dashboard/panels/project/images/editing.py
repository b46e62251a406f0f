"""Create (upload), edit and share images."""
from __future__ import annotations

import http
import re
from typing import Any, cast

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST
from openstack import exceptions as sdk_exc
from openstack.identity.v3._proxy import Proxy as KeystoneProxy

from dashboard import cloud, errors
from dashboard.panels.project.images import access
from dashboard.panels.project.images import forms as image_forms
from dashboard.ui import forms as ui_forms

NS = "project-images"
PATCH_TYPE = "application/openstack-images-v2.1-json-patch"
_ID = re.compile(r"^[0-9a-fA-F-]{32,36}$")


def _refusal(err: BaseException) -> sdk_exc.SDKException:
    """Glance's refusal without the status line its plain-text bodies start with
    ("415 Unsupported Media Type")."""
    text = errors.message(err).strip()
    code = errors.status(err)
    if code:
        try:
            head = "%d %s" % (code, http.HTTPStatus(code).phrase)
        except ValueError:
            head = ""
        if head and text.startswith(head):
            text = text[len(head):].strip()
    return sdk_exc.SDKException(text)


def create(request: Any) -> HttpResponse:
    is_admin = request.stratus_user.is_admin
    form = image_forms.CreateForm(request.POST or None, request.FILES or None,
                                  is_admin=is_admin)

    def apply(data: dict[str, Any]) -> str:
        upload = data["image_file"]
        # The file object itself goes to openstacksdk, which streams it to
        # Glance (and deletes the image again when Glance refuses the data).
        try:
            image = access.glance(request).create_image(
                data["name"], data=upload, size=upload.size,
                disk_format=data["disk_format"], container_format=data["container_format"],
                visibility=data["visibility"], protected=data["protected"],
                min_disk=data["min_disk"], min_ram=data["min_ram"],
                meta=form.all_properties(), allow_duplicates=True,
                disable_vendor_agent=False, validate_checksum=False, wait=False)
        except sdk_exc.HttpException as err:
            raise _refusal(err) from err
        return "Image %s created." % (image.name or data["name"])

    return ui_forms.form_page(request, form, apply, reverse(NS + ":index"), "Create Image",
                              "Create Image", extra={"upload": True})


def _patch(image: Any, data: dict[str, Any], new_props: dict[str, str]) -> list[dict[str, Any]]:
    """The JSON patch from ``image`` to the edit form's values."""
    ops: list[dict[str, Any]] = []
    core = {"name": image.name, "visibility": image.visibility,
            "protected": bool(image.is_protected), "min_disk": image.min_disk or 0,
            "min_ram": image.min_ram or 0}
    for key, old in core.items():
        if data[key] != old:
            ops.append({"op": "replace", "path": "/" + key, "value": data[key]})
    old_props = access.editable_properties(image)
    for key in sorted(set(old_props) - set(new_props)):
        ops.append({"op": "remove", "path": "/" + key})
    for key in sorted(new_props):
        if key not in old_props:
            ops.append({"op": "add", "path": "/" + key, "value": new_props[key]})
        elif old_props[key] != new_props[key]:
            ops.append({"op": "replace", "path": "/" + key, "value": new_props[key]})
    return ops


def edit(request: Any, image_id: str) -> HttpResponse:
    image = access.get_owned(request, image_id)
    props = access.editable_properties(image)
    initial = {"name": image.name, "visibility": image.visibility,
               "protected": bool(image.is_protected), "min_disk": image.min_disk or 0,
               "min_ram": image.min_ram or 0,
               "properties": image_forms.format_properties(props)}
    initial.update({k: props.get(k, "") for k in access.NAMED_PROPERTIES})
    is_admin = request.stratus_user.is_admin
    form = image_forms.EditForm(request.POST or None, initial=initial, is_admin=is_admin)
    if not is_admin and image.visibility == "public":
        form.fields["visibility"].choices = (  # type: ignore[attr-defined]
            image_forms.visibility_choices(False) + [("public", "Public (every project)")])

    def apply(data: dict[str, Any]) -> str:
        ops = _patch(image, data, form.all_properties())
        if not ops:
            return "Nothing to change in image %s." % image.name
        image_api = access.glance(request)
        resp = image_api.patch("/images/%s" % image.id, json=ops,
                               headers={"Content-Type": PATCH_TYPE})
        try:
            sdk_exc.raise_from_response(resp)
        except sdk_exc.HttpException as err:
            raise _refusal(err) from err
        return "Image %s updated." % data["name"]

    return ui_forms.form_page(request, form, apply, reverse(NS + ":detail", args=[image.id]),
                              "Edit Image %s" % (image.name or image.id), "Save")


def _member_id(request: Any, text: str) -> str:
    """The project ID for ``text`` (a name or an ID). :raises: ValueError."""
    text = text.strip()
    for project in request.stratus_user.projects:
        if text in (project["id"], project["name"]):
            return str(project["id"])
    try:
        identity = cast(KeystoneProxy, cloud.connection(request).identity)
        found = identity.find_project(text, ignore_missing=True)
    except errors.API_ERRORS as err:
        if errors.status(err) != 403:
            raise
        if _ID.match(text):
            return text
        raise ValueError("Only administrators can look up another project by name: "
                         "give the project's ID.")
    if found is None:
        raise ValueError("There is no project %s." % text)
    return str(found.id)


def members(request: Any, image_id: str) -> HttpResponse:
    image = access.get_owned(request, image_id)
    back = reverse(NS + ":members", args=[image.id])
    form = image_forms.MemberForm(request.POST or None)
    shared = image.visibility == "shared"
    if request.method == "POST" and shared and form.is_valid():
        try:
            member = _member_id(request, form.cleaned_data["project"])
            access.glance(request).add_member(image, member=member)
        except ValueError as err:
            form.add_error("project", str(err))
        except errors.API_ERRORS as err:
            form.add_error(None, errors.message(err))
        else:
            messages.success(request, "Image %s is shared with project %s; it appears in "
                                      "that project's image list once the project accepts "
                                      "it." % (image.name, member))
            return HttpResponseRedirect(back)
    names = {p["id"]: p["name"] for p in request.stratus_user.projects}
    rows = list(access.glance(request).members(image)) if shared else []
    return render(request, "project/images/members.html", {
        "title": "Share Image %s" % (image.name or image.id), "image": image, "form": form,
        "shared": shared, "names": names,
        "members": [{"id": m.member_id, "name": names.get(m.member_id, ""),
                     "status": m.status, "created_at": m.created_at} for m in rows]},
        status=400 if form.errors else 200)


@require_POST
def member_delete(request: Any, image_id: str, member_id: str) -> HttpResponse:
    def apply() -> str:
        image = access.get_owned(request, image_id)
        access.glance(request).remove_member(member_id, image,
                                                      ignore_missing=False)
        return "Image %s is no longer shared with project %s." % (image.name, member_id)

    return ui_forms.act(request, apply, reverse(NS + ":members", args=[image_id]))
