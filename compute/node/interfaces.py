"""External instance events from the network service, and interface hot-plug.

Events (``os-server-external-events`` relayed by the API):

* ``network-vif-plugged`` / ``network-vif-unplugged`` release the build (or
  other workflow) waiting for them; nobody waiting is fine.
* ``network-changed`` refreshes the instance's network_info from its ports.
* ``network-vif-deleted`` drops the port from the network_info (and, where the
  driver can hot-unplug, from the guest) when the instance has it; an unknown
  port is ignored.

Events never take the instance's lock: a build holds it while it waits for
exactly these events.

Hot-plug uses the driver's optional ``attach_interface(context, instance,
image_meta, vif)`` and ``detach_interface(context, instance, vif)``; a driver
whose ``supports_interface_hotplug`` is false (or that lacks them) answers 409
(InterfaceHotplugNotSupported) before any port is made.
"""
from __future__ import annotations

from typing import Any

from oslo_log import log as logging

from compute import exception
from compute.node import base
from compute.node import events as events_mod

LOG = logging.getLogger(__name__)

ATTACH_EVENT = "compute_attach_interface"
DETACH_EVENT = "compute_detach_interface"


def external_instance_event(node: base.Node, ctxt: Any, events: list[dict[str, Any]]) -> None:
    for event in events:
        name = str(event.get("name") or "")
        tag = str(event.get("tag") or "")
        uuid = str(event.get("server_uuid") or event.get("instance_uuid") or "")
        status = str(event.get("status") or events_mod.COMPLETED)
        try:
            if name in (events_mod.VIF_PLUGGED, events_mod.VIF_UNPLUGGED):
                if not node.events.deliver(uuid, name, tag, status):
                    LOG.debug("Event %(name)s:%(tag)s of %(uuid)s: nobody waits for it",
                              {"name": name, "tag": tag, "uuid": uuid})
            elif name == events_mod.NETWORK_CHANGED:
                refresh_network_info(node, ctxt, uuid)
            elif name == events_mod.VIF_DELETED:
                forget_port(node, ctxt, uuid, tag)
            else:
                LOG.debug("Ignoring event %(name)s of instance %(uuid)s",
                          {"name": name, "uuid": uuid})
        except exception.InstanceNotFound:
            LOG.debug("Event %(name)s for unknown instance %(uuid)s", {"name": name,
                                                                       "uuid": uuid})
        except Exception:  # one event must not stop the others
            LOG.exception("Handling event %(name)s of instance %(uuid)s failed",
                          {"name": name, "uuid": uuid})


def refresh_network_info(node: base.Node, ctxt: Any, instance_uuid: str) -> list[dict[str, Any]]:
    instance = node.get(ctxt, instance_uuid)
    network_info = node.neighbours.get_instance_nw_info(ctxt, instance_uuid,
                                                        instance.get("network_info") or [])
    node.update(ctxt, instance_uuid, {"network_info": network_info})
    return network_info


def forget_port(node: base.Node, ctxt: Any, instance_uuid: str, port_id: str) -> bool:
    instance = node.get(ctxt, instance_uuid)
    network_info = instance.get("network_info") or []
    entry = next((vif for vif in network_info if vif.get("id") == port_id), None)
    if entry is None:
        return False
    unplug = _hotplug_method(node, "detach_interface")
    if unplug is not None:
        try:
            unplug(ctxt, base.driver_instance(instance), base.vif(entry))
        except Exception:
            LOG.exception("Could not unplug deleted port %s from the guest", port_id)
    node.update(ctxt, instance_uuid,
                {"network_info": [vif for vif in network_info if vif is not entry]})
    return True


def _hotplug_method(node: base.Node, method: str) -> Any:
    if not getattr(node.driver, "supports_interface_hotplug", True):
        return None
    found = getattr(node.driver, method, None)
    return found if callable(found) else None


def _hotplug(node: base.Node, instance_uuid: str, method: str) -> Any:
    found = _hotplug_method(node, method)
    if found is None:
        raise exception.InterfaceHotplugNotSupported(driver=node.driver.name,
                                                     instance_uuid=instance_uuid)
    return found


def attach_interface(node: base.Node, ctxt: Any, instance_uuid: str, network_id: str | None,
                     port_id: str | None, fixed_ip: str | None) -> dict[str, Any]:
    """Create (or adopt) a port and plug it into the guest; its network_info entry.

    :raises: InterfaceHotplugNotSupported (409), InterfaceAttachFailed (400),
        the network errors of allocate_for_instance.
    """
    plug = _hotplug(node, instance_uuid, "attach_interface")
    with node.lock(instance_uuid):
        instance = node.get(ctxt, instance_uuid)
        with node.action(ctxt, instance_uuid, ATTACH_EVENT):
            requested: Any
            if port_id:
                requested = [{"port": port_id}]
            elif network_id:
                requested = [dict({"uuid": network_id},
                                  **({"fixed_ip": fixed_ip} if fixed_ip else {}))]
            else:
                requested = "auto"
            groups = [str(g) for g in instance.get("security_groups") or []]
            added = node.neighbours.allocate_for_instance(ctxt, instance, requested, groups,
                                                          node.host)
            if not added:
                raise exception.InterfaceAttachFailed(instance_uuid=instance_uuid)
            entry = added[0]
            try:
                plug(ctxt, base.driver_instance(instance), base.image_meta(instance),
                     base.vif(entry))
            except Exception as err:
                LOG.warning("Plugging port %(port)s into %(uuid)s failed: %(err)s",
                            {"port": entry["id"], "uuid": instance_uuid, "err": err})
                node.neighbours.release_port(ctxt, str(entry["id"]), preserve=bool(port_id))
                raise exception.InterfaceAttachFailed(instance_uuid=instance_uuid) from err
            node.update(ctxt, instance_uuid,
                        {"network_info": list(instance.get("network_info") or []) + [entry]})
            return dict(entry)


def detach_interface(node: base.Node, ctxt: Any, instance_uuid: str, port_id: str) -> None:
    """Unplug the port from the guest and delete (or release) it."""
    try:
        unplug = _hotplug(node, instance_uuid, "detach_interface")
        with node.lock(instance_uuid):
            instance = node.get(ctxt, instance_uuid)
            with node.action(ctxt, instance_uuid, DETACH_EVENT):
                network_info = instance.get("network_info") or []
                entry = next((v for v in network_info if v.get("id") == port_id), None)
                if entry is None:
                    raise exception.PortNotFound(port_id=port_id)
                unplug(ctxt, base.driver_instance(instance), base.vif(entry))
                node.neighbours.release_port(ctxt, port_id,
                                             preserve=bool(entry.get("preserve_on_delete")))
                node.update(ctxt, instance_uuid, {
                    "network_info": [v for v in network_info if v is not entry]})
    except exception.InstanceNotFound:
        return
    except Exception as err:  # the boundary of a cast
        LOG.warning("Detaching port %(port)s from %(uuid)s failed: %(err)s",
                    {"port": port_id, "uuid": instance_uuid, "err": err})
        node.fault(ctxt, instance_uuid, err)
