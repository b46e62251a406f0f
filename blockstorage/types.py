"""The rules of volume types (the API's service layer): who sees which type,
the default type, what may be deleted, extra specs and private access.

Non-admins see public types and private ones shared with their project, and
only the extra specs Cinder calls user-visible (the others name backends);
``default`` names the type of ``[DEFAULT] default_volume_type``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oslo_config import cfg
from oslo_log import log as logging

from common.db import engine
from blockstorage import exception
from blockstorage.db import quotas as quotas_db
from blockstorage.db import snapshots as snapshots_db
from blockstorage.db import types as types_db

LOG = logging.getLogger(__name__)
DEFAULT_ALIAS = "default"
# Extra specs every reader may see (Cinder's user-visible keys).
USER_VISIBLE_SPECS = frozenset(("multiattach", "RESKEY:availability_zones",
                                "replication_enabled"))


def is_admin(ctxt: Any) -> bool:
    return bool(getattr(ctxt, "is_admin", False)) or "admin" in (ctxt.roles or [])


def visible_specs(ctxt: Any, specs: Mapping[str, Any]) -> dict[str, Any]:
    """The extra specs ``ctxt`` may read."""
    if is_admin(ctxt):
        return dict(specs)
    return {k: v for k, v in specs.items() if k in USER_VISIBLE_SPECS}


class TypeService:
    """Volume type rules for one API process."""

    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database) -> None:
        self.conf = conf
        self.store = types_db.TypeStore(db)
        self.quota_store = quotas_db.QuotaStore(db)

    @staticmethod
    def _scope(ctxt: Any) -> str | None:
        """The project whose view applies (None: an admin sees every type)."""
        return None if is_admin(ctxt) else ctxt.project_id

    # -- reads
    def default(self, ctxt: Any) -> dict[str, Any]:
        """The default type. :raises: VolumeTypeNotFound."""
        return self.store.get_by_name(self.conf.default_volume_type)

    def get(self, ctxt: Any, type_id: str) -> dict[str, Any]:
        """A type the caller may see (``default``: the default one).

        :raises: VolumeTypeNotFound.
        """
        if type_id == DEFAULT_ALIAS:
            return self.default(ctxt)
        return self.store.get(type_id, self._scope(ctxt))

    def get_all(self, ctxt: Any, is_public: bool | None,
                listing: snapshots_db.Listing) -> list[dict[str, Any]]:
        """Admins choose with ``is_public`` (True: public, False: private, None:
        all); others always see the public types and those shared with them."""
        if not is_admin(ctxt):
            return self.store.get_all(ctxt.project_id, True, listing)
        return self.store.get_all(None, is_public, listing)

    # -- manage (admins)
    def create(self, ctxt: Any, name: str, description: str | None, is_public: bool,
               extra_specs: Mapping[str, str]) -> dict[str, Any]:
        """:raises: VolumeTypeExists."""
        vtype = self.store.create(name, description, is_public, extra_specs)
        LOG.info("Volume type %(name)s created (%(id)s)", {"name": name, "id": vtype["id"]})
        return vtype

    def update(self, ctxt: Any, type_id: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """:raises: VolumeTypeNotFound, VolumeTypeExists, InvalidVolumeType."""
        current = self.store.get(type_id)
        name = values.get("name")
        if (name is not None and name != current["name"]
                and current["name"] == self.conf.default_volume_type):
            raise exception.InvalidVolumeType(
                reason="The default volume type %s cannot be renamed." % current["name"])
        vtype = self.store.update(type_id, values)
        if name is not None and name != current["name"]:
            self.quota_store.rename_type(current["name"], name)
        return vtype

    def delete(self, ctxt: Any, type_id: str) -> None:
        """:raises: VolumeTypeNotFound, VolumeTypeDefaultDeletion, VolumeTypeInUse."""
        vtype = self.store.get(type_id)
        if vtype["name"] == self.conf.default_volume_type:
            raise exception.VolumeTypeDefaultDeletion(volume_type_id=type_id)
        self.store.delete(type_id)
        self.quota_store.delete_type(vtype["name"])
        LOG.info("Volume type %(name)s deleted", {"name": vtype["name"]})

    # -- extra specs
    def set_extra_specs(self, ctxt: Any, type_id: str,
                        specs: Mapping[str, str]) -> dict[str, str]:
        return self.store.set_extra_specs(type_id, specs)

    def delete_extra_spec(self, ctxt: Any, type_id: str, key: str) -> None:
        self.store.delete_extra_spec(type_id, key)

    # -- private access
    def access_list(self, ctxt: Any, type_id: str) -> list[str]:
        """The projects a private type is shared with.

        :raises: VolumeTypeNotFound, VolumeTypeAccessNotFound for a public type.
        """
        vtype = self.store.get(type_id)
        if vtype["is_public"]:
            raise exception.VolumeTypeAccessNotFound(
                "Access list not available for public volume types.")
        return list(vtype["projects"])

    def add_access(self, ctxt: Any, type_id: str, project_id: str) -> list[str]:
        return self.store.add_access(type_id, project_id)

    def remove_access(self, ctxt: Any, type_id: str, project_id: str) -> list[str]:
        return self.store.remove_access(type_id, project_id)
