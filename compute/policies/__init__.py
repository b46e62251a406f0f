"""Compute policy defaults, in code, under Nova's rule names.

Flavors are read by anyone with a role in a project; creating, deleting,
changing extra specs and sharing private flavors is for admins. Key pairs
belong to a user: their owner (or an admin) reads them, their owner with the
member role (or an admin) writes them.
"""
from __future__ import annotations

from oslo_policy import policy

from compute.policies.base import one as _rule

from compute.policies import hosts as hosts_policies
from compute.policies import interfaces as interfaces_policies
from compute.policies import projects as projects_policies
from compute.policies import security_groups as security_groups_policies
from compute.policies import server_migrations as server_migrations_policies
from compute.policies import servers as servers_policies
from compute.policies import volume_attachments as volume_attachments_policies

ADMIN = "rule:admin_required"
READER = "role:reader or role:member or rule:admin_required"
OWNER_READ = "rule:admin_required or ((role:reader or role:member) and user_id:%(user_id)s)"
OWNER_WRITE = "rule:admin_required or (role:member and user_id:%(user_id)s)"

FLAVORS = "/v2.1/flavors"
EXTRA = FLAVORS + "/{flavor_id}/os-extra_specs"
KEYPAIRS = "/v2.1/os-keypairs"


def list_rules() -> list[policy.RuleDefault]:
    return servers_policies.list_rules() + hosts_policies.list_rules() + \
        projects_policies.list_rules() + interfaces_policies.list_rules() + \
        volume_attachments_policies.list_rules() + \
        server_migrations_policies.list_rules() + security_groups_policies.list_rules() + [
        _rule("flavors:index", READER, "List flavors.", "GET", FLAVORS),
        _rule("flavors:show", READER, "Show a flavor.", "GET", FLAVORS + "/{flavor_id}"),
        _rule("os-flavor-manage:create", ADMIN, "Create a flavor.", "POST", FLAVORS),
        _rule("os-flavor-manage:delete", ADMIN, "Delete a flavor.", "DELETE",
              FLAVORS + "/{flavor_id}"),
        _rule("os-flavor-extra-specs:index", READER, "List a flavor's extra specs.", "GET",
              EXTRA),
        _rule("os-flavor-extra-specs:show", READER, "Show one extra spec.", "GET",
              EXTRA + "/{key}"),
        _rule("os-flavor-extra-specs:create", ADMIN, "Set extra specs.", "POST", EXTRA),
        _rule("os-flavor-extra-specs:update", ADMIN, "Update one extra spec.", "PUT",
              EXTRA + "/{key}"),
        _rule("os-flavor-extra-specs:delete", ADMIN, "Delete one extra spec.", "DELETE",
              EXTRA + "/{key}"),
        _rule("os-flavor-access", ADMIN, "List the projects a private flavor is shared with.",
              "GET", FLAVORS + "/{flavor_id}/os-flavor-access"),
        _rule("os-flavor-access:add_tenant_access", ADMIN,
              "Share a private flavor with a project.", "POST",
              FLAVORS + "/{flavor_id}/action (addTenantAccess)"),
        _rule("os-flavor-access:remove_tenant_access", ADMIN,
              "Stop sharing a private flavor with a project.", "POST",
              FLAVORS + "/{flavor_id}/action (removeTenantAccess)"),
        _rule("os-keypairs:index", OWNER_READ, "List key pairs.", "GET", KEYPAIRS),
        _rule("os-keypairs:show", OWNER_READ, "Show a key pair.", "GET",
              KEYPAIRS + "/{keypair_name}"),
        _rule("os-keypairs:create", OWNER_WRITE, "Import or generate a key pair.", "POST",
              KEYPAIRS),
        _rule("os-keypairs:delete", OWNER_WRITE, "Delete a key pair.", "DELETE",
              KEYPAIRS + "/{keypair_name}"),
    ]
