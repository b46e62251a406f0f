"""What the network panels share: who may see what, names by id, labels."""
from __future__ import annotations

import logging
from typing import Any, Iterable

from django.http import Http404
from django.urls import NoReverseMatch, reverse

from dashboard import errors

LOG = logging.getLogger(__name__)
ROUTER_INTERFACE = "network:router_interface"
ROUTER_GATEWAY = "network:router_gateway"


def project_of(obj: Any) -> str:
    return str(getattr(obj, "project_id", None) or getattr(obj, "tenant_id", None) or "")


def owned(obj: Any, request: Any) -> bool:
    return project_of(obj) == request.stratus_user.project_id


def visible_network(net: Any, request: Any) -> bool:
    """Own networks, and others' that are shared or external."""
    return owned(net, request) or bool(net.is_shared) or bool(net.is_router_external)


def require_owned(obj: Any, request: Any) -> Any:
    """``obj``, or 404 when it belongs to another project (an admin token sees those)."""
    if not owned(obj, request):
        raise Http404("This belongs to another project.")
    return obj


def ports_allowed(net: Any, request: Any) -> bool:
    """Whether the project may make ports on ``net`` (its own or a shared one)."""
    return owned(net, request) or bool(net.is_shared)


def require_visible_network(net: Any, request: Any) -> Any:
    if not visible_network(net, request):
        raise Http404("This network belongs to another project.")
    return net


def is_interface(port: Any) -> bool:
    return str(port.device_owner or "").startswith(ROUTER_INTERFACE)


def is_instance_port(port: Any) -> bool:
    return str(port.device_owner or "").startswith("compute:")


def fixed_ips(port: Any) -> list[str]:
    return [str(f.get("ip_address")) for f in (port.fixed_ips or []) if f.get("ip_address")]


def subnet_label(subnet: Any) -> str:
    return "%s %s" % (subnet.name, subnet.cidr) if subnet.name else str(subnet.cidr)


def yes_no(value: Any) -> str:
    return "Yes" if value else "No"


def up_down(value: Any) -> str:
    return "UP" if value else "DOWN"


def instance_url(server_id: str) -> str:
    try:
        return reverse("project-instances:detail", args=[server_id])
    except NoReverseMatch:
        return "/project/instances/%s/" % server_id


def server_names(request: Any, conn: Any, ports: Iterable[Any] = (),
                 force: bool = False) -> dict[str, str]:
    """Names of the project's servers by id: one list call, made only when a
    port belongs to an instance (or ``force``); empty when compute fails."""
    if not force and not any(is_instance_port(p) for p in ports):
        return {}
    if "compute" not in request.stratus_user.services:
        return {}
    try:
        return {s.id: s.name for s in conn.compute.servers()}
    except errors.API_ERRORS as err:
        LOG.warning("server names unavailable: %s", errors.message(err))
        return {}


def router_names(request: Any, conn: Any, ports: Iterable[Any]) -> dict[str, str]:
    """Names of the project's routers by id (one list call, when a port needs one)."""
    if not any(is_interface(p) for p in ports):
        return {}
    pid = request.stratus_user.project_id
    return {r.id: r.name or r.id for r in conn.network.routers(project_id=pid)}


def device_url(port: Any, names: dict[str, str]) -> str | None:
    """The page of what a port is attached to, when the project has one."""
    if not port.device_id or port.device_id not in names:
        return None
    if is_instance_port(port):
        return instance_url(port.device_id)
    if is_interface(port) or port.device_owner == ROUTER_GATEWAY:
        return reverse("project-routers:detail", args=[port.device_id])
    return None


def external_networks(conn: Any) -> list[Any]:
    return sorted(conn.network.networks(is_router_external=True),
                  key=lambda n: (n.name or "", n.id))


def device_text(port: Any, names: dict[str, str]) -> str:
    """What a port is attached to, as people read it."""
    owner = str(port.device_owner or "")
    if not port.device_id:
        return "-" if not owner else owner
    if owner.startswith("compute:"):
        return "Instance %s" % names.get(port.device_id, port.device_id)
    if owner.startswith(ROUTER_INTERFACE):
        return "Router %s (interface)" % names.get(port.device_id, port.device_id)
    if owner == "network:dhcp":
        return "DHCP service"
    if owner == ROUTER_GATEWAY:
        return "Router %s (gateway)" % names.get(port.device_id, port.device_id)
    return "%s (%s)" % (owner or "device", port.device_id)
