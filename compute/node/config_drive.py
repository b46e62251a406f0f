"""The config drive: whether an instance gets one, and what it holds.

An instance gets a config drive when it was created with ``config_drive``
(the API stores ``"True"``), when its image says ``img_config_drive=mandatory``,
or when the node's ``[DEFAULT] force_config_drive`` is set, as on Nova. The
node gathers the documents here — the metadata API's, built by the same
function (:func:`compute.metadata.content.instance_metadata`) from what the
node has: the instance record the conductor returned, its network_info, its
block device mappings (for the tagged devices) and the node's ``[metadata]``
settings — and hands them to the driver (:class:`compute.virt.model.ConfigDrive`),
which writes the image and attaches it. The node never writes the image itself.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from oslo_log import log as logging

from compute.metadata import content
from compute.node import base
from compute.virt import model

LOG = logging.getLogger(__name__)

_FALSE = ("", "false", "0", "no", "off", "none")


def required(node: base.Node, instance: Mapping[str, Any],
             image_meta: model.ImageMeta | None = None) -> bool:
    """Whether ``instance`` gets a config drive on this node."""
    if str(instance.get("config_drive") or "").strip().lower() not in _FALSE:
        return True
    if image_meta is not None and image_meta.properties.get("img_config_drive") == "mandatory":
        return True
    return bool(node.conf.force_config_drive)


def gather(node: base.Node, ctxt: Any, instance: Mapping[str, Any],
           network_info: Sequence[Mapping[str, Any]] | None = None,
           bdms: Sequence[Mapping[str, Any]] | None = None,
           image_meta: model.ImageMeta | None = None) -> model.ConfigDrive | None:
    """The config drive of ``instance`` (None when it gets none).

    :param network_info: its ports, when newer than the record's copy.
    :param bdms: its block device mappings when the caller has them (else one
        conductor call reads them).
    """
    if not required(node, instance, image_meta):
        return None
    if bdms is None:
        bdms = node.conductor.bdm_get_by_instance(ctxt, str(instance["uuid"]))
    md = content.instance_metadata(node.conf, instance, block_devices=bdms,
                                   network_info=network_info)
    LOG.debug("Instance %s gets a config drive", md.uuid)
    return model.ConfigDrive(files=tuple(md.files()))
