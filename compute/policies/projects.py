"""Policy defaults of the project resources: quotas (a project's readers see its
own, admins change them), limits, server groups (a project's members create
and delete, its readers list and show; every project's for admins), simple
tenant usage (a project's own for its readers, all for admins) and the
extension list (anyone)."""
from __future__ import annotations

from oslo_policy import policy

from compute.policies.base import rule as _rule

ADMIN = "rule:admin_required"
ANY = "@"
PROJECT_READER = ("rule:admin_required or ((role:reader or role:member) and "
                  "project_id:%(project_id)s)")
PROJECT_MEMBER = "rule:admin_required or (role:member and project_id:%(project_id)s)"
QUOTAS = "/v2.1/os-quota-sets/{tenant_id}"
GROUPS = "/v2.1/os-server-groups"
USAGE = "/v2.1/os-simple-tenant-usage"




def list_rules() -> list[policy.RuleDefault]:
    return [
        _rule("os-quota-sets:show", PROJECT_READER, "Show a project's quotas.",
              [("GET", QUOTAS)]),
        _rule("os-quota-sets:defaults", ANY, "Show the default quotas.",
              [("GET", QUOTAS + "/defaults")]),
        _rule("os-quota-sets:detail", PROJECT_READER, "Show a project's quotas and usage.",
              [("GET", QUOTAS + "/detail")]),
        _rule("os-quota-sets:update", ADMIN, "Change a project's or user's quotas.",
              [("PUT", QUOTAS)]),
        _rule("os-quota-sets:delete", ADMIN, "Reset a project's or user's quotas.",
              [("DELETE", QUOTAS)]),
        _rule("os-quota-class-sets:show", ADMIN, "Show a quota class.",
              [("GET", "/v2.1/os-quota-class-sets/{quota_class}")]),
        _rule("os-quota-class-sets:update", ADMIN, "Change a quota class (the defaults).",
              [("PUT", "/v2.1/os-quota-class-sets/{quota_class}")]),
        _rule("limits", ANY, "Show the caller's limits and usage.", [("GET", "/v2.1/limits")]),
        _rule("limits:other_project", ADMIN, "Show another project's limits and usage.",
              [("GET", "/v2.1/limits?tenant_id={tenant_id}")]),
        _rule("os-server-groups:index", PROJECT_READER, "List a project's server groups.",
              [("GET", GROUPS)]),
        _rule("os-server-groups:index:all_projects", ADMIN,
              "List every project's server groups.", [("GET", GROUPS + "?all_projects")]),
        _rule("os-server-groups:show", PROJECT_READER, "Show a server group.",
              [("GET", GROUPS + "/{server_group_id}")]),
        _rule("os-server-groups:create", PROJECT_MEMBER, "Create a server group.",
              [("POST", GROUPS)]),
        _rule("os-server-groups:delete", PROJECT_MEMBER, "Delete a server group.",
              [("DELETE", GROUPS + "/{server_group_id}")]),
        _rule("os-simple-tenant-usage:list", ADMIN, "Show every project's usage.",
              [("GET", USAGE)]),
        _rule("os-simple-tenant-usage:show", PROJECT_READER, "Show a project's usage.",
              [("GET", USAGE + "/{tenant_id}")]),
        _rule("extensions", ANY, "List the API extensions or show one.",
              [("GET", "/v2.1/extensions"), ("GET", "/v2.1/extensions/{alias}")]),
    ]
