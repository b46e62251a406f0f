"""Image stores, chosen by ``[store] default_store``."""
from __future__ import annotations

from oslo_config import cfg

from common.clients import base as clients_base
from image.conf import SWIFT_GROUP

from image.store import base
from image.store import filesystem
from image.store import multi

Store = base.Store


def get_store(conf: cfg.ConfigOpts) -> base.Store:
    """The store new image data goes to (``[store] default_store``).

    :raises: ValueError for an unknown store name (the option's choices
        normally prevent it).
    """
    stores: dict[str, base.Store] = {
        "file": filesystem.FilesystemStore(lambda: conf.store.filesystem_store_datadir)}
    if conf.store.default_store == "swift" or conf.store.swift_store_enabled:
        from image.store import swift  # keystoneauth only where the object store is used

        stores["swift"] = swift.SwiftStore(
            lambda: clients_base.adapter(conf, SWIFT_GROUP, swift.SERVICE_TYPE),
            conf.store.swift_store_container,
            conf.store.swift_store_large_object_chunk_size * 1024 * 1024)
    name = conf.store.default_store
    if name not in stores:
        raise ValueError("unknown image store %r" % name)
    if len(stores) == 1:
        return stores[name]
    return multi.MultiStore(stores, name)
