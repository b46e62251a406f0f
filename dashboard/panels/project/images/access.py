"""Which images the project may see and change, and an image's properties
(every attribute that is not one of Glance's core ones)."""
from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import PermissionDenied
from django.http import Http404
from openstack.image.v2._proxy import Proxy as GlanceProxy

from dashboard import cloud, errors

DISK_FORMATS = ("raw", "qcow2", "vmdk", "vdi", "iso", "ami", "ari", "aki", "ploop", "vhd",
                "vhdx")
CONTAINER_FORMATS = ("bare", "ovf", "ova", "aki", "ari", "ami", "docker", "compressed")
# Glance's own attributes: never shown or edited as properties.
CORE = frozenset({
    "id", "name", "status", "visibility", "protected", "os_hidden", "owner", "size",
    "virtual_size", "checksum", "os_hash_algo", "os_hash_value", "container_format",
    "disk_format", "min_disk", "min_ram", "created_at", "updated_at", "file", "schema",
    "tags", "direct_url", "locations", "self", "store", "url", "metadata", "properties",
    "owner_id", "location"})
# Properties Glance or openstacksdk keep for themselves: shown, never edited.
READ_ONLY = frozenset({"stores", "os_glance_import_task", "os_glance_failed_import",
                       "os_glance_importing_to_stores"})
READ_ONLY_PREFIXES = ("owner_specified.openstack.", "os_glance")
NAMED_PROPERTIES = ("kernel_id", "ramdisk_id", "os_distro")


def glance(request: Any) -> GlanceProxy:
    """The request's Image v2 proxy (typed as v2: Glance v1 is not spoken)."""
    return cast(GlanceProxy, cloud.connection(request).image)


def properties(image: Any) -> dict[str, str]:
    """All non-core attributes of ``image`` under Glance's names, sorted."""
    body = image.to_dict(body=True, headers=False, computed=False, ignore_none=True,
                         original_names=True)
    found: dict[str, Any] = dict(body.pop("properties", None) or {})
    for key, value in body.items():
        if key not in CORE:
            found[key] = value
    return {k: str(found[k]) for k in sorted(found)}


def read_only(key: str) -> bool:
    return key in READ_ONLY or key.startswith(READ_ONLY_PREFIXES)


def editable_properties(image: Any) -> dict[str, str]:
    return {k: v for k, v in properties(image).items() if not read_only(k)}


def image_type(image: Any) -> str:
    return "Snapshot" if properties(image).get("image_type") == "snapshot" else "Image"


def owned(request: Any, image: Any) -> bool:
    return bool(image.owner) and image.owner == request.stratus_user.project_id


def visible(request: Any, image: Any, shared_ids: set[str] | None = None) -> bool:
    """What a member of the project sees: its own images, public and community
    ones, and shared ones it is a member of (``shared_ids``: known memberships;
    None asks Glance)."""
    if owned(request, image) or image.visibility in ("public", "community"):
        return True
    if image.visibility != "shared":
        return False
    if shared_ids is not None:
        return image.id in shared_ids
    try:
        glance(request).get_member(request.stratus_user.project_id, image)
    except errors.API_ERRORS as err:
        if errors.status(err) in (403, 404):
            return False
        raise
    return True


def get_visible(request: Any, image_id: str) -> Any:
    """The image, or 404 when the project may not see it. Glance already hides
    other projects' private images from members; an admin's token sees them
    all, so the owner is compared here too."""
    image = glance(request).get_image(image_id)
    if request.stratus_user.is_admin and not visible(request, image):
        raise Http404("image of another project")
    return image


def get_owned(request: Any, image_id: str) -> Any:
    """The image if the project owns it (404 if unseen, 403 if only seen)."""
    image = get_visible(request, image_id)
    if not owned(request, image):
        raise PermissionDenied("Only the project that owns this image may change it.")
    return image
