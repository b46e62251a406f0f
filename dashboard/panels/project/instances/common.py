"""What the instance pages share: the project's server, names by id, and how a
server's flavor, image, addresses, power state and age read."""
from __future__ import annotations

import dataclasses
import datetime
import logging
from typing import Any, Iterable

from django.http import Http404

from dashboard import cloud, errors
from dashboard.ui import format as fmt

LOG = logging.getLogger(__name__)

# Nova's power_state numbers.
POWER_STATES = {0: "No State", 1: "Running", 3: "Paused", 4: "Shut Down", 6: "Crashed",
                7: "Suspended"}
BOOT_FROM_VOLUME = "(booted from volume)"


def server_for_project(request: Any, server_id: str) -> Any:
    """The server, when it belongs to the user's project (else 404, even for an
    admin whose token could see it).

    :raises: Http404, or the API's error
    """
    server = cloud.connection(request).compute.get_server(server_id)
    if server.project_id != request.stratus_user.project_id:
        raise Http404("This instance belongs to another project.")
    return server


def by_id(items: Iterable[Any]) -> dict[str, Any]:
    return {str(fmt.get(item, "id")): item for item in items}


@dataclasses.dataclass
class Names:
    """Flavors, images (and for admins projects) by id, for showing servers."""
    flavors: dict[str, Any] = dataclasses.field(default_factory=dict)
    images: dict[str, Any] = dataclasses.field(default_factory=dict)
    projects: dict[str, Any] = dataclasses.field(default_factory=dict)


def _tolerant(what: str, call: Any) -> dict[str, Any]:
    """Names are a nicety: when their service fails, show ids instead of failing."""
    try:
        return by_id(call())
    except errors.API_ERRORS as err:
        LOG.warning("listing %s for the instances table failed: %s", what,
                    errors.message(err))
        return {}


def names(conn: Any, projects: bool = False) -> Names:
    """One list call each for flavors and images (and projects)."""
    found = Names(flavors=_tolerant("flavors", lambda: conn.compute.flavors()),
                  images=_tolerant("images", lambda: conn.image.images()))
    if projects:
        found.projects = _tolerant("projects", lambda: conn.identity.projects())
    return found


def names_for(conn: Any, server: Any, projects: bool = False) -> Names:
    """The names one server needs (for a refreshing row): one call each at most."""
    found = Names()
    flavor_id = fmt.get(server, "flavor.id")
    if flavor_id and not fmt.get(server, "flavor.original_name"):
        found.flavors = _tolerant("flavor", lambda: [conn.compute.get_flavor(flavor_id)])
    image_id = image_id_of(server)
    if image_id:
        found.images = _tolerant("image", lambda: [conn.image.get_image(image_id)])
    project_id = fmt.get(server, "project_id")
    if projects and project_id:
        found.projects = _tolerant("project", lambda: [conn.identity.get_project(project_id)])
    return found


def image_id_of(server: Any) -> str | None:
    image = fmt.get(server, "image")
    value = fmt.get(image, "id") if image else None
    return str(value) if value else None


def image_name(server: Any, images: dict[str, Any]) -> str:
    image_id = image_id_of(server)
    if not image_id:
        return BOOT_FROM_VOLUME
    image = images.get(image_id)
    return str(fmt.get(image, "name") or image_id) if image is not None else image_id


def flavor_of(server: Any, flavors: dict[str, Any]) -> dict[str, Any]:
    """name, vcpus, ram (MiB), disk (GiB): from the flavor list by id, else from
    what the server embeds (microversion 2.47+), else just the id."""
    embedded = fmt.get(server, "flavor")
    known = flavors.get(str(fmt.get(embedded, "id")))
    if known is not None and not fmt.get(embedded, "original_name"):
        source, name = known, fmt.get(known, "name")
    else:
        source = embedded
        name = fmt.get(embedded, "original_name") or fmt.get(embedded, "name")
    return {"id": fmt.get(known, "id") if known is not None else fmt.get(embedded, "id"),
            "name": name or fmt.get(embedded, "id") or "-",
            "vcpus": fmt.get(source, "vcpus"), "ram": fmt.get(source, "ram"),
            "disk": fmt.get(source, "disk")}


def flavor_label(flavor: Any) -> str:
    """'m1.tiny (1 vCPU, 128 MiB RAM, 1 GiB disk)'."""
    vcpus = int(fmt.get(flavor, "vcpus") or 0)
    return "%s (%d vCPU%s, %s RAM, %s disk)" % (
        fmt.get(flavor, "name"), vcpus, "" if vcpus == 1 else "s",
        fmt.size(fmt.get(flavor, "ram") or 0, "MiB"), fmt.size(fmt.get(flavor, "disk") or 0, "GiB"))


def addresses_by_network(server: Any) -> list[dict[str, Any]]:
    out = []
    for network, entries in sorted((fmt.get(server, "addresses") or {}).items()):
        addrs = []
        for entry in entries or []:
            kind = entry.get("OS-EXT-IPS:type") or ""
            addrs.append({"addr": entry.get("addr"), "floating": kind == "floating"})
        out.append({"network": network, "addresses": addrs})
    return out


def ip_addresses(server: Any) -> str:
    parts = []
    for net in addresses_by_network(server):
        for addr in net["addresses"]:
            parts.append("%s%s" % (addr["addr"], " (floating)" if addr["floating"] else ""))
    return ", ".join(parts)


def power_state(server: Any) -> str:
    value = fmt.get(server, "power_state")
    try:
        return POWER_STATES.get(int(value), str(value))
    except (TypeError, ValueError):
        return "-" if value in (None, "") else str(value)


def age(created: Any, now: datetime.datetime | None = None) -> str:
    """'5 minutes', '3 hours', '2 days' since an API timestamp."""
    if not created:
        return "-"
    try:
        stamp = datetime.datetime.fromisoformat(str(created).replace("Z", "+00:00"))
    except ValueError:
        return str(created)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=datetime.timezone.utc)
    seconds = int(((now or datetime.datetime.now(datetime.timezone.utc)) - stamp)
                  .total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return "%d %s%s" % (count, unit, "" if count == 1 else "s")
    return "just now"


def changing(server: Any) -> bool:
    """Building, or in a task: its row refreshes itself."""
    return fmt.transitional(fmt.get(server, "status"), fmt.get(server, "task_state"))


def volume_ids(server: Any) -> list[str]:
    return [str(fmt.get(v, "id")) for v in fmt.get(server, "attached_volumes") or []
            if fmt.get(v, "id")]
