"""Policy defaults of the admin resources about hosts: os-services,
os-hypervisors, os-aggregates, os-migrations (admins only) and
os-availability-zone (its list for anyone with a role in a project, its detail
for admins)."""
from __future__ import annotations

from oslo_policy import policy

from compute.policies.base import rule as _rule

ADMIN = "rule:admin_required"
READER = "role:reader or role:member or rule:admin_required"
SERVICES = "/v2.1/os-services"
HYPERVISORS = "/v2.1/os-hypervisors"
AGGREGATES = "/v2.1/os-aggregates"




def list_rules() -> list[policy.RuleDefault]:
    return [
        _rule("os-services:list", ADMIN, "List compute services.", [("GET", SERVICES)]),
        _rule("os-services:update", ADMIN, "Enable, disable or force down a compute service.",
              [("PUT", SERVICES + "/{service_id}")]),
        _rule("os-services:delete", ADMIN, "Delete a compute service.",
              [("DELETE", SERVICES + "/{service_id}")]),
        _rule("os-hypervisors:list", ADMIN, "List hypervisors.", [("GET", HYPERVISORS)]),
        _rule("os-hypervisors:list-detail", ADMIN, "List hypervisors with details.",
              [("GET", HYPERVISORS + "/detail")]),
        _rule("os-hypervisors:statistics", ADMIN, "Show statistics over all hypervisors.",
              [("GET", HYPERVISORS + "/statistics")]),
        _rule("os-hypervisors:show", ADMIN, "Show a hypervisor.",
              [("GET", HYPERVISORS + "/{hypervisor_id}")]),
        _rule("os-hypervisors:uptime", ADMIN, "Show a hypervisor's uptime.",
              [("GET", HYPERVISORS + "/{hypervisor_id}/uptime")]),
        _rule("os-hypervisors:search", ADMIN, "Search hypervisors by hostname.",
              [("GET", HYPERVISORS + "/{hypervisor_hostname_pattern}/search")]),
        _rule("os-hypervisors:servers", ADMIN, "List the servers on hypervisors.",
              [("GET", HYPERVISORS + "/{hypervisor_hostname_pattern}/servers")]),
        _rule("os-aggregates:index", ADMIN, "List aggregates.", [("GET", AGGREGATES)]),
        _rule("os-aggregates:create", ADMIN, "Create an aggregate.", [("POST", AGGREGATES)]),
        _rule("os-aggregates:show", ADMIN, "Show an aggregate.",
              [("GET", AGGREGATES + "/{aggregate_id}")]),
        _rule("os-aggregates:update", ADMIN, "Rename an aggregate or change its zone.",
              [("PUT", AGGREGATES + "/{aggregate_id}")]),
        _rule("os-aggregates:delete", ADMIN, "Delete an aggregate.",
              [("DELETE", AGGREGATES + "/{aggregate_id}")]),
        _rule("os-aggregates:add_host", ADMIN, "Add a host to an aggregate.",
              [("POST", AGGREGATES + "/{aggregate_id}/action (add_host)")]),
        _rule("os-aggregates:remove_host", ADMIN, "Remove a host from an aggregate.",
              [("POST", AGGREGATES + "/{aggregate_id}/action (remove_host)")]),
        _rule("os-aggregates:set_metadata", ADMIN, "Set an aggregate's metadata.",
              [("POST", AGGREGATES + "/{aggregate_id}/action (set_metadata)")]),
        _rule("os-migrations:index", ADMIN, "List migrations.",
              [("GET", "/v2.1/os-migrations")]),
        _rule("os-availability-zone:list", READER, "List availability zones.",
              [("GET", "/v2.1/os-availability-zone")]),
        _rule("os-availability-zone:detail", ADMIN,
              "List availability zones with their hosts and services.",
              [("GET", "/v2.1/os-availability-zone/detail")]),
    ]
