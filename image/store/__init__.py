"""Image stores, chosen by ``[store] default_store``."""
from __future__ import annotations

from oslo_config import cfg

from image.store import base
from image.store import filesystem

Store = base.Store


def get_store(conf: cfg.ConfigOpts) -> base.Store:
    """The store new image data goes to (``[store] default_store``).

    :raises: ValueError for an unknown store name (the option's choices
        normally prevent it).
    """
    name = conf.store.default_store
    if name == "file":
        return filesystem.FilesystemStore(lambda: conf.store.filesystem_store_datadir)
    raise ValueError("unknown image store %r" % name)
