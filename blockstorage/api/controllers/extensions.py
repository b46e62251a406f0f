"""``GET /v3/{project_id}/extensions``: the Cinder extensions this API implements
(names, aliases and namespaces as Cinder lists them)."""
from __future__ import annotations

from typing import Any

from common.wsgi import request as wsgi_request

Request = wsgi_request.Request
_NS = "https://docs.openstack.org/volume/ext/%s/api/v1"
_UPDATED = "2013-04-18T00:00:00+00:00"
# (alias, name, description)
EXTENSIONS = (
    ("os-admin-actions", "AdminActions", "Enable admin actions."),
    ("os-availability-zone", "AvailabilityZones", "Describe Availability Zones."),
    ("backups", "Backups", "Backups support."),
    ("os-extended-snapshot-attributes", "ExtendedSnapshotAttributes",
     "Extended SnapshotAttributes support."),
    ("os-quota-sets", "Quotas", "Quota management support."),
    ("os-services", "Services", "Services support."),
    ("os-hosts", "Hosts", "Admin-only host administration."),
    ("os-types-extra-specs", "TypesExtraSpecs", "Type extra specs support."),
    ("os-types-manage", "TypesManage", "Types manage support."),
    ("os-vol-host-attr", "VolumeHostAttribute", "Expose host as an attribute of a volume."),
    ("os-vol-image-meta", "VolumeImageMetadata",
     "Show image metadata associated with the volume."),
    ("os-vol-mig-status-attr", "VolumeMigStatusAttribute",
     "Expose migration_status as an attribute of a volume."),
    ("os-vol-tenant-attr", "VolumeTenantAttribute",
     "Expose the internal project_id as an attribute of a volume."),
    ("os-volume-actions", "VolumeActions", "Enable volume actions."),
    ("os-volume-type-access", "VolumeTypeAccess", "Volume type access support."),
)


def routes(app: Any) -> list[tuple[str, dict[str, Any]]]:
    def index(req: Request) -> Any:
        items = [{"alias": alias, "name": name, "description": text, "links": [],
                  "namespace": _NS % alias, "updated": _UPDATED}
                 for alias, name, text in EXTENSIONS]
        return wsgi_request.json_response({"extensions": items})

    return [("/v3/extensions", {"GET": index})]
