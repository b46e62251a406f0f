"""Launch Instance: one form in fieldsets (details, source, flavor, networks,
access, configuration), validated before ``create_server`` is called."""
from __future__ import annotations

import base64
import dataclasses
from typing import Any

from django import forms
from django.http import HttpResponse
from django.urls import reverse

from dashboard import cloud
from dashboard.panels.project.instances import common
from dashboard.ui import format as fmt
from dashboard.ui import forms as ui_forms

MAX_COUNT = 100
MAX_USER_DATA = 65535     # Nova's limit, on the base64 text
NOT_BOOTABLE = ("aki", "ari")
FIELDSETS = (("Details", ("name", "count", "availability_zone")),
             ("Source", ("source_type", "image", "volume")),
             ("Flavor", ("flavor",)),
             ("Networks", ("networks",)),
             ("Access & Security", ("key_name", "security_groups")),
             ("Configuration", ("user_data", "config_drive")))


@dataclasses.dataclass
class Choices:
    """What the user may pick from, listed once per page (one call per kind)."""
    zones: list[str]
    images: list[Any]
    volumes: list[Any]
    flavors: list[Any]
    networks: list[Any]
    keypairs: list[str]
    groups: list[tuple[str, str]]


def load_choices(request: Any) -> Choices:
    conn = cloud.connection(request)
    user = request.stratus_user
    zones = sorted(z.name for z in conn.compute.availability_zones()
                   if (z.state or {}).get("available", True))
    images = []
    if "image" in user.services:
        images = sorted((i for i in conn.image.images() if i.status == "active"
                         and i.disk_format not in NOT_BOOTABLE),
                        key=lambda i: (i.name or "").lower())
    volumes = []
    if "block-storage" in user.services:
        volumes = sorted((v for v in conn.block_storage.volumes(status="available")
                          if v.status == "available" and v.is_bootable),
                         key=lambda v: (v.name or "").lower())
    flavors = sorted(conn.compute.flavors(), key=lambda f: (f.vcpus or 0, f.ram or 0, f.name))
    networks: list[Any] = []
    groups: list[tuple[str, str]] = []
    if "network" in user.services:
        networks = sorted((n for n in conn.network.networks() if not n.is_router_external
                           and (n.project_id == user.project_id or n.is_shared)),
                          key=lambda n: (n.name or "").lower())
        found = list(conn.network.security_groups(project_id=user.project_id))
        counts: dict[str, int] = {}
        for group in found:
            counts[group.name] = counts.get(group.name, 0) + 1
        groups = sorted(((g.name if counts[g.name] == 1 else g.id,
                          g.name if counts[g.name] == 1 else "%s (%s)" % (g.name, g.id))
                         for g in found), key=lambda pair: pair[1].lower())
    keypairs = sorted(k.name for k in conn.compute.keypairs())
    return Choices(zones, images, volumes, flavors, networks, keypairs, groups)


class LaunchForm(forms.Form):
    name = forms.CharField(label="Instance name", max_length=255)
    count = forms.IntegerField(label="Count", min_value=1, max_value=MAX_COUNT, initial=1,
                               help_text="How many instances to launch (1 to %d)." % MAX_COUNT)
    availability_zone = forms.ChoiceField(label="Availability zone", required=False)
    source_type = forms.ChoiceField(label="Boot source", initial="image",
                                    choices=[("image", "Image"), ("volume", "Volume")])
    image = forms.ChoiceField(label="Image", required=False)
    volume = forms.ChoiceField(label="Volume", required=False,
                               help_text="An available bootable volume; it is kept when "
                                         "the instance is deleted.")
    flavor = forms.ChoiceField(label="Flavor")
    networks = forms.MultipleChoiceField(label="Networks", required=False,
                                         widget=forms.CheckboxSelectMultiple)
    key_name = forms.ChoiceField(label="Key pair", required=False)
    security_groups = forms.MultipleChoiceField(label="Security groups", required=False,
                                                widget=forms.CheckboxSelectMultiple)
    user_data = forms.CharField(label="User data", required=False, strip=False,
                                widget=forms.Textarea(attrs={"rows": 6}),
                                help_text="A cloud-init script or #cloud-config, given to "
                                          "the instance at boot.")
    config_drive = forms.BooleanField(label="Configuration drive", required=False)

    def __init__(self, data: Any, choices: Choices, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.choices = choices
        fields = self.fields
        fields["availability_zone"].choices = [("", "Any availability zone")] + [
            (z, z) for z in choices.zones]
        fields["image"].choices = [("", "Select an image")] + [
            (i.id, "%s (%s)" % (i.name or i.id, fmt.size(i.size))) for i in choices.images]
        fields["volume"].choices = [("", "Select a volume")] + [
            (v.id, "%s (%s)" % (v.name or v.id, fmt.size(v.size, "GiB")))
            for v in choices.volumes]
        fields["flavor"].choices = [("", "Select a flavor")] + [
            (str(f.id), common.flavor_label(f)) for f in choices.flavors]
        fields["networks"].choices = [
            (n.id, "%s%s" % (n.name or n.id, " (shared)" if n.is_shared else ""))
            for n in choices.networks]
        if len(choices.networks) > 1:
            fields["networks"].help_text = "Choose at least one."
        elif not choices.networks:
            fields["networks"].help_text = "The project has no network: the instance gets none."
        fields["key_name"].choices = [("", "No key pair")] + [(k, k) for k in choices.keypairs]
        fields["security_groups"].choices = choices.groups

    def clean_user_data(self) -> str:
        # Browsers send a textarea with CRLF line ends; a script's "#!/bin/sh\r" fails.
        text = (self.cleaned_data.get("user_data") or "").replace("\r\n", "\n")
        if not text.strip():
            return ""
        encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
        if len(encoded) > MAX_USER_DATA:
            raise forms.ValidationError("User data is too long: at most %d bytes once "
                                        "base64-encoded (this is %d)."
                                        % (MAX_USER_DATA, len(encoded)))
        return encoded

    def _check_source(self, data: dict[str, Any]) -> None:
        if data.get("source_type") == "volume":
            if not data.get("volume"):
                self.add_error("volume", "Choose the volume to boot from.")
            elif (data.get("count") or 1) > 1:
                self.add_error("count", "A volume boots one instance: launch one at a time.")
        elif not data.get("image"):
            self.add_error("image", "Choose the image to boot from.")

    def _check_fit(self, data: dict[str, Any]) -> None:
        """The flavor must be big enough for the image."""
        flavor = common.by_id(self.choices.flavors).get(str(data.get("flavor")))
        image = common.by_id(self.choices.images).get(str(data.get("image")))
        if flavor is None or image is None or data.get("source_type") != "image":
            return
        ram, disk = int(flavor.ram or 0), int(flavor.disk or 0)
        if image.min_ram and int(image.min_ram) > ram:
            self.add_error("flavor", "The image needs at least %s of RAM; this flavor has %s."
                           % (fmt.size(image.min_ram, "MiB"), fmt.size(ram, "MiB")))
        if disk and image.min_disk and int(image.min_disk) > disk:
            self.add_error("flavor", "The image needs a disk of at least %s; this flavor's "
                           "is %s." % (fmt.size(image.min_disk, "GiB"), fmt.size(disk, "GiB")))
        elif disk and image.size and int(image.size) > disk * 1024 ** 3:
            self.add_error("flavor", "The image (%s) is larger than this flavor's disk (%s)."
                           % (fmt.size(image.size), fmt.size(disk, "GiB")))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self._check_source(data)
        self._check_fit(data)
        nets = self.choices.networks
        if not data.get("networks"):
            if len(nets) > 1:
                self.add_error("networks", "Choose at least one network.")
            elif len(nets) == 1:
                data["networks"] = [nets[0].id]
        return data


def server_attrs(data: dict[str, Any]) -> dict[str, Any]:
    """``create_server`` keyword arguments for a valid launch form."""
    attrs: dict[str, Any] = {"name": data["name"], "flavor_id": data["flavor"],
                             "min_count": data["count"], "max_count": data["count"]}
    if data["source_type"] == "volume":
        attrs["block_device_mapping"] = [{
            "uuid": data["volume"], "source_type": "volume", "destination_type": "volume",
            "boot_index": 0, "delete_on_termination": False}]
    else:
        attrs["image_id"] = data["image"]
    if data.get("availability_zone"):
        attrs["availability_zone"] = data["availability_zone"]
    if data.get("networks"):
        attrs["networks"] = [{"uuid": net} for net in data["networks"]]
    if data.get("key_name"):
        attrs["key_name"] = data["key_name"]
    if data.get("security_groups"):
        attrs["security_groups"] = [{"name": group} for group in data["security_groups"]]
    if data.get("user_data"):
        attrs["user_data"] = data["user_data"]
    if data.get("config_drive"):
        attrs["config_drive"] = True
    return attrs


def _initial(request: Any, choices: Choices) -> dict[str, Any]:
    initial: dict[str, Any] = {"count": 1, "source_type": "image"}
    if request.GET.get("volume"):
        initial.update(source_type="volume", volume=request.GET["volume"])
    elif request.GET.get("image"):
        initial["image"] = request.GET["image"]
    if any(value == "default" for value, _label in choices.groups):
        initial["security_groups"] = ["default"]
    if len(choices.networks) == 1:
        initial["networks"] = [choices.networks[0].id]
    return initial


def launch(request: Any) -> HttpResponse:
    """GET/POST /project/instances/launch/ (``?image=<id>`` or ``?volume=<id>`` prefill)."""
    choices = load_choices(request)
    form = LaunchForm(request.POST or None, choices, initial=_initial(request, choices))

    def apply(data: dict[str, Any]) -> str:
        cloud.connection(request).compute.create_server(**server_attrs(data))
        if data["count"] > 1:
            return "Launching %d instances named %s." % (data["count"], data["name"])
        return "Launching instance %s." % data["name"]

    fieldsets = [{"legend": legend, "fields": [form[name] for name in names]}
                 for legend, names in FIELDSETS]
    return ui_forms.form_page(request, form, apply, reverse("project-instances:index"),
                              "Launch Instance", "Launch Instance",
                              template="project/instances/launch.html",
                              extra={"fieldsets": fieldsets})
