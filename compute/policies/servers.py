"""Server policy defaults, under Nova's rule names.

A project's members act on its servers, its readers (and members) read them;
admins act on every project's. Other projects' servers are hidden (404) before
any rule is checked, so ``project_id`` in a target is always the server's.
Moving servers between hosts, resetting their state, seeing where they run and
listing every project's servers is for admins; so are the events of an
instance action (before 2.51) and the external events the network service
sends (admins or the ``service`` role).
"""
from __future__ import annotations

from oslo_policy import policy

from compute.policies.base import one as _rule

ADMIN = "rule:admin_required"
MEMBER = "rule:admin_required or (role:member and project_id:%(project_id)s)"
READER = ("rule:admin_required or ((role:reader or role:member) and "
          "project_id:%(project_id)s)")
SERVICE = "rule:admin_required or role:service"

SERVERS = "/v2.1/servers"
SERVER = SERVERS + "/{server_id}"
ACTION = SERVER + "/action"


def _action(name: str, check: str, description: str, action: str) -> policy.DocumentedRuleDefault:
    return _rule(name, check, description, "POST", "%s (%s)" % (ACTION, action))


def _servers() -> list[policy.RuleDefault]:
    return [
        _rule("servers:index", READER, "List servers.", "GET", SERVERS),
        _rule("servers:detail", READER, "List servers with details.", "GET",
              SERVERS + "/detail"),
        _rule("servers:index:get_all_tenants", ADMIN, "List every project's servers.",
              "GET", SERVERS),
        _rule("servers:detail:get_all_tenants", ADMIN,
              "List every project's servers with details.", "GET", SERVERS + "/detail"),
        _rule("servers:allow_all_filters", ADMIN,
              "Filter servers by any attribute (host, node, ...).", "GET", SERVERS),
        _rule("servers:show", READER, "Show a server.", "GET", SERVER),
        _rule("servers:show:host_status", ADMIN,
              "Show the status of a server's host (2.16).", "GET", SERVER),
        _rule("servers:create", MEMBER, "Create servers.", "POST", SERVERS),
        _rule("servers:create:forced_host", ADMIN,
              "Create a server on a given host (availability_zone az:host[:node]).",
              "POST", SERVERS),
        _rule("servers:create:zero_disk_flavor", ADMIN,
              "Boot from an image with a flavor of zero root disk.", "POST", SERVERS),
        _rule("servers:update", MEMBER, "Update a server.", "PUT", SERVER),
        _rule("servers:delete", MEMBER, "Delete a server.", "DELETE", SERVER),
        _rule("os-extended-server-attributes", ADMIN,
              "Show the OS-EXT-SRV-ATTR attributes of servers.", "GET", SERVER),
    ]


def _actions() -> list[policy.RuleDefault]:
    return [
        _action("servers:start", MEMBER, "Start a server.", "os-start"),
        _action("servers:stop", MEMBER, "Stop a server.", "os-stop"),
        _action("servers:reboot", MEMBER, "Reboot a server.", "reboot"),
        _action("servers:rebuild", MEMBER, "Rebuild a server.", "rebuild"),
        _action("servers:resize", MEMBER, "Resize a server.", "resize"),
        _action("servers:confirm_resize", MEMBER, "Confirm a resize.", "confirmResize"),
        _action("servers:revert_resize", MEMBER, "Revert a resize.", "revertResize"),
        _action("servers:create_image", MEMBER, "Snapshot a server to an image.",
                "createImage"),
        _action("os-create-backup", MEMBER, "Back a server up to an image.", "createBackup"),
        _action("os-pause-server:pause", MEMBER, "Pause a server.", "pause"),
        _action("os-pause-server:unpause", MEMBER, "Unpause a server.", "unpause"),
        _action("os-suspend-server:suspend", MEMBER, "Suspend a server.", "suspend"),
        _action("os-suspend-server:resume", MEMBER, "Resume a server.", "resume"),
        _action("os-lock-server:lock", MEMBER, "Lock a server.", "lock"),
        _action("os-lock-server:unlock", MEMBER, "Unlock a server.", "unlock"),
        _action("os-lock-server:unlock:unlock_override", ADMIN,
                "Unlock a server another party (an admin) locked.", "unlock"),
        _action("os-console-output", MEMBER, "Show a server's console log.",
                "os-getConsoleOutput"),
        _rule("os-remote-consoles", MEMBER, "Open a server's remote (noVNC) console.",
              "POST", SERVER + "/remote-consoles"),
        _action("os-admin-password", MEMBER, "Change a server's password.",
                "changePassword"),
        _action("os-admin-actions:reset_state", ADMIN, "Reset a server's state.",
                "os-resetState"),
        _action("os-migrate-server:migrate", ADMIN, "Cold-migrate a server.", "migrate"),
        _action("os-deferred-delete:force", MEMBER, "Force-delete a server.", "forceDelete"),
        _action("os-deferred-delete:restore", MEMBER, "Restore a soft-deleted server.",
                "restore"),
        _action("os-shelve:shelve", MEMBER, "Shelve a server.", "shelve"),
        _action("os-shelve:shelve_offload", ADMIN, "Offload a shelved server.",
                "shelveOffload"),
        _action("os-shelve:unshelve", MEMBER, "Unshelve a server.", "unshelve"),
        _action("os-rescue", MEMBER, "Rescue a server (boot a rescue image).", "rescue"),
        _action("os-unrescue", MEMBER, "Unrescue a rescued server.", "unrescue"),
    ]


def _sub_resources() -> list[policy.RuleDefault]:
    meta = SERVER + "/metadata"
    tags = SERVER + "/tags"
    acts = SERVER + "/os-instance-actions"
    return [
        _rule("server-metadata:index", READER, "List a server's metadata.", "GET", meta),
        _rule("server-metadata:show", READER, "Show one metadata item.", "GET",
              meta + "/{key}"),
        _rule("server-metadata:create", MEMBER, "Merge metadata items.", "POST", meta),
        _rule("server-metadata:update_all", MEMBER, "Replace all metadata.", "PUT", meta),
        _rule("server-metadata:update", MEMBER, "Set one metadata item.", "PUT",
              meta + "/{key}"),
        _rule("server-metadata:delete", MEMBER, "Delete one metadata item.", "DELETE",
              meta + "/{key}"),
        _rule("os-server-tags:index", READER, "List a server's tags.", "GET", tags),
        _rule("os-server-tags:show", READER, "Check one tag.", "GET", tags + "/{tag}"),
        _rule("os-server-tags:update_all", MEMBER, "Replace all tags.", "PUT", tags),
        _rule("os-server-tags:update", MEMBER, "Add one tag.", "PUT", tags + "/{tag}"),
        _rule("os-server-tags:delete_all", MEMBER, "Delete all tags.", "DELETE", tags),
        _rule("os-server-tags:delete", MEMBER, "Delete one tag.", "DELETE",
              tags + "/{tag}"),
        _rule("ips:index", READER, "List a server's addresses.", "GET", SERVER + "/ips"),
        _rule("ips:show", READER, "List a server's addresses on one network.", "GET",
              SERVER + "/ips/{network_label}"),
        _rule("os-instance-actions:list", READER, "List a server's actions.", "GET", acts),
        _rule("os-instance-actions:show", READER, "Show one action of a server.", "GET",
              acts + "/{request_id}"),
        _rule("os-instance-actions:events", ADMIN, "See the events of an action.", "GET",
              acts + "/{request_id}"),
        _rule("os-server-password:show", READER, "Show a server's encrypted password.",
              "GET", SERVER + "/os-server-password"),
        _rule("os-server-password:clear", MEMBER, "Clear a server's encrypted password.",
              "DELETE", SERVER + "/os-server-password"),
        _rule("os-server-diagnostics", ADMIN, "Show a server's diagnostics.", "GET",
              SERVER + "/diagnostics"),
        _rule("os-server-external-events:create", SERVICE,
              "Send events (network-vif-plugged ...) to servers.", "POST",
              "/v2.1/os-server-external-events"),
    ]


def list_rules() -> list[policy.RuleDefault]:
    return _servers() + _actions() + _sub_resources()
