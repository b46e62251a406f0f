"""Policy defaults of live migration, evacuation and a server's migrations
(Nova's rule names): all for admins."""
from __future__ import annotations

from oslo_policy import policy

from compute.policies.base import ADMIN
from compute.policies.base import one as _rule

SERVER = "/v2.1/servers/{server_id}"
ACTION = SERVER + "/action"
MIGRATIONS = SERVER + "/migrations"


def list_rules() -> list[policy.RuleDefault]:
    return [
        _rule("os-migrate-server:migrate_live", ADMIN, "Live-migrate a server.", "POST",
              ACTION + " (os-migrateLive)"),
        _rule("os-evacuate", ADMIN, "Evacuate a server from a failed host.", "POST",
              ACTION + " (evacuate)"),
        _rule("servers:migrations:index", ADMIN,
              "List a server's live migrations in progress (2.23).", "GET", MIGRATIONS),
        _rule("servers:migrations:show", ADMIN,
              "Show a live migration of a server in progress (2.23).", "GET",
              MIGRATIONS + "/{migration_id}"),
        _rule("servers:migrations:delete", ADMIN,
              "Abort a server's live migration (2.24).", "DELETE",
              MIGRATIONS + "/{migration_id}"),
        _rule("servers:migrations:force_complete", ADMIN,
              "Force a server's live migration to complete (2.22).", "POST",
              MIGRATIONS + "/{migration_id}/action (force_complete)"),
    ]
