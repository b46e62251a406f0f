"""Identity policy rules for the admin, member and reader personas.

Admin means the ``admin`` role in any scope (as the classic clients expect of
an ``openrc`` admin); readers see their system, their domain or themselves.
"""
from __future__ import annotations

from oslo_policy import policy

ADMIN = "rule:admin_required"
SYSTEM_READER = "(role:reader and system_scope:all)"
CLOUD_READER = "%s or %s" % (ADMIN, SYSTEM_READER)
DOMAIN_READER = "(role:reader and domain_id:%(target.domain_id)s)"
DOMAIN_ADMIN = "(role:admin and domain_id:%(target.domain_id)s)"
ANY = ""


def _rule(name: str, check: str, description: str,
          operations: list[tuple[str, str]]) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(
        name="identity:" + name, check_str=check, description=description,
        operations=[{"method": m, "path": p} for m, p in operations])


def _crud(noun: str, path: str, read: str, write: str,
          plural: str | None = None) -> list[policy.DocumentedRuleDefault]:
    plural = plural or path.rsplit("/", 1)[-1]
    item = path + "/{%s_id}" % noun
    return [
        _rule("get_" + noun, read, "Show a %s." % noun, [("GET", item), ("HEAD", item)]),
        _rule("list_" + plural, read, "List %s." % plural, [("GET", path), ("HEAD", path)]),
        _rule("create_" + noun, write, "Create a %s." % noun, [("POST", path)]),
        _rule("update_" + noun, write, "Update a %s." % noun, [("PATCH", item)]),
        _rule("delete_" + noun, write, "Delete a %s." % noun, [("DELETE", item)]),
    ]


OWNER = "user_id:%(target.user.id)s"
READ_SCOPED = "%s or %s" % (CLOUD_READER, DOMAIN_READER)


def list_rules() -> list[policy.RuleDefault]:
    rules: list[policy.RuleDefault] = []
    rules += _crud("domain", "/v3/domains", CLOUD_READER + " or domain_id:%(target.domain.id)s"
                   " or project_domain_id:%(target.domain.id)s", ADMIN)
    rules += _crud("project", "/v3/projects", READ_SCOPED + " or project_id:%(target.project.id)s",
                   ADMIN + " or " + DOMAIN_ADMIN)
    rules += _crud("user", "/v3/users", READ_SCOPED + " or " + OWNER, ADMIN + " or " + DOMAIN_ADMIN)
    rules += _crud("group", "/v3/groups", READ_SCOPED, ADMIN + " or " + DOMAIN_ADMIN)
    rules += _crud("role", "/v3/roles", READ_SCOPED, ADMIN)
    rules += _crud("domain_role", "/v3/roles", READ_SCOPED, ADMIN + " or " + DOMAIN_ADMIN,
                   plural="domain_roles")
    rules += _crud("region", "/v3/regions", ANY, ADMIN)
    rules += _crud("service", "/v3/services", CLOUD_READER, ADMIN)
    rules += _crud("endpoint", "/v3/endpoints", CLOUD_READER, ADMIN)
    rules += _crud("credential", "/v3/credentials",
                   CLOUD_READER + " or user_id:%(target.credential.user_id)s",
                   ADMIN + " or user_id:%(target.credential.user_id)s")
    rules += [
        _rule("list_user_projects", CLOUD_READER + " or " + DOMAIN_READER + " or " + OWNER,
              "List projects of a user.", [("GET", "/v3/users/{user_id}/projects")]),
        _rule("list_groups_for_user", READ_SCOPED + " or " + OWNER,
              "List groups of a user.", [("GET", "/v3/users/{user_id}/groups")]),
        _rule("list_users_in_group", READ_SCOPED, "List members of a group.",
              [("GET", "/v3/groups/{group_id}/users")]),
        _rule("check_user_in_group", READ_SCOPED, "Check group membership.",
              [("HEAD", "/v3/groups/{group_id}/users/{user_id}")]),
        _rule("add_user_to_group", ADMIN + " or " + DOMAIN_ADMIN, "Add a group member.",
              [("PUT", "/v3/groups/{group_id}/users/{user_id}")]),
        _rule("remove_user_from_group", ADMIN + " or " + DOMAIN_ADMIN,
              "Remove a group member.", [("DELETE", "/v3/groups/{group_id}/users/{user_id}")]),
        _rule("change_password", ANY, "Change one's own password.",
              [("POST", "/v3/users/{user_id}/password")]),
        _rule("list_grants", READ_SCOPED, "List role grants.",
              [("GET", "/v3/projects/{project_id}/users/{user_id}/roles")]),
        _rule("check_grant", READ_SCOPED, "Check a role grant.",
              [("HEAD", "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}")]),
        _rule("create_grant", ADMIN + " or " + DOMAIN_ADMIN, "Grant a role.",
              [("PUT", "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}")]),
        _rule("revoke_grant", ADMIN + " or " + DOMAIN_ADMIN, "Revoke a role.",
              [("DELETE", "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}")]),
        _rule("list_system_grants", CLOUD_READER, "List system role grants.",
              [("GET", "/v3/system/users/{user_id}/roles")]),
        _rule("create_system_grant", ADMIN, "Grant a system role.",
              [("PUT", "/v3/system/users/{user_id}/roles/{role_id}")]),
        _rule("revoke_system_grant", ADMIN, "Revoke a system role.",
              [("DELETE", "/v3/system/users/{user_id}/roles/{role_id}")]),
        _rule("list_role_assignments", READ_SCOPED, "List role assignments.",
              [("GET", "/v3/role_assignments")]),
        _rule("list_implied_roles", CLOUD_READER, "List implied roles.",
              [("GET", "/v3/roles/{prior_role_id}/implies")]),
        _rule("create_implied_role", ADMIN, "Create an implied role rule.",
              [("PUT", "/v3/roles/{prior_role_id}/implies/{implied_role_id}")]),
        _rule("delete_implied_role", ADMIN, "Delete an implied role rule.",
              [("DELETE", "/v3/roles/{prior_role_id}/implies/{implied_role_id}")]),
        _rule("validate_token", ADMIN + " or " + SYSTEM_READER + " or rule:service_role"
              " or user_id:%(target.token.user_id)s", "Validate a token.",
              [("GET", "/v3/auth/tokens"), ("HEAD", "/v3/auth/tokens")]),
        _rule("revoke_token", ADMIN + " or rule:service_role"
              " or user_id:%(target.token.user_id)s", "Revoke a token.",
              [("DELETE", "/v3/auth/tokens")]),
        _rule("list_revoke_events", ADMIN + " or rule:service_role", "List revocation events.",
              [("GET", "/v3/OS-REVOKE/events")]),
        _rule("app_cred_owner", ADMIN + " or " + OWNER,
              "Create, show, list and delete one's application credentials.",
              [("GET", "/v3/users/{user_id}/application_credentials")]),
    ]
    return rules
