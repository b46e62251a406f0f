"""The identity route table: every controller contributes its routes."""
from __future__ import annotations

from typing import Any

from identity.api.controllers import assignments
from identity.api.controllers import auth
from identity.api.controllers import catalog
from identity.api.controllers import credentials
from identity.api.controllers import resources
from identity.api.controllers import users
from identity.api.controllers import versions

CONTROLLERS = (versions.VersionsController, auth.AuthController,
               resources.DomainsController, resources.ProjectsController,
               users.UsersController, users.GroupsController,
               assignments.RolesController, assignments.GrantsController,
               assignments.RoleAssignmentsController, catalog.CatalogController,
               credentials.CredentialsController, credentials.AppCredsController)


def build(app: Any) -> list[tuple[str, dict[str, Any]]]:
    table: list[tuple[str, dict[str, Any]]] = []
    for controller_cls in CONTROLLERS:
        table.extend(controller_cls(app).routes())
    return table
