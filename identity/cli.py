"""``stratus identity ...``: tokens, projects, users, roles and the catalog."""
from __future__ import annotations

import argparse
from typing import Any

from common.cli import client

EP = {"service_type": "identity", "interface": "public"}


class _Commands:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sess = client.session_from_env(args.auth_url)

    def access(self) -> Any:
        return self.sess.auth.get_access(self.sess)  # type: ignore[union-attr]

    def get(self, path: str) -> Any:
        return self.sess.get(path, endpoint_filter=EP).json()

    def find(self, kind: str, name_or_id: str) -> dict[str, Any]:
        resp = self.sess.get("/%ss/%s" % (kind, name_or_id), endpoint_filter=EP,
                             raise_exc=False)
        if resp.status_code == 200:
            return dict(resp.json()[kind])
        found = self.get("/%ss?name=%s" % (kind, name_or_id))["%ss" % kind]
        if len(found) != 1:
            raise client.CLIError("%s %r: %s" % (kind, name_or_id, "not found" if not found
                                                 else "more than one; use its id"))
        return dict(found[0])


def _token_issue(args: argparse.Namespace) -> None:
    cmd = _Commands(args)
    token = cmd.sess.get_token()
    access = cmd.access()
    client.print_object(args.format, {"id": token, "expires": access.expires.isoformat(),
                                      "project_id": access.project_id,
                                      "user_id": access.user_id})


def _list(kind: str, columns: tuple[str, ...]) -> Any:
    def run(args: argparse.Namespace) -> None:
        rows = _Commands(args).get("/%ss" % kind)["%ss" % kind]
        client.print_rows(args.format, columns, rows)
    return run


def _show(kind: str) -> Any:
    def run(args: argparse.Namespace) -> None:
        client.print_object(args.format, _Commands(args).find(kind, args.name))
    return run


def _delete(kind: str) -> Any:
    def run(args: argparse.Namespace) -> None:
        cmd = _Commands(args)
        item = cmd.find(kind, args.name)
        cmd.sess.delete("/%ss/%s" % (kind, item["id"]), endpoint_filter=EP)
        print("deleted %s %s (%s)" % (kind, item.get("name"), item["id"]))
    return run


def _project_create(args: argparse.Namespace) -> None:
    body = {"name": args.name, "description": args.description or ""}
    cmd = _Commands(args)
    if args.domain:
        body["domain_id"] = cmd.find("domain", args.domain)["id"]
    project = cmd.sess.post("/projects", json={"project": body}, endpoint_filter=EP)
    client.print_object(args.format, project.json()["project"])


def _user_create(args: argparse.Namespace) -> None:
    cmd = _Commands(args)
    body: dict[str, Any] = {"name": args.name}
    if args.password:
        body["password"] = args.password
    if args.project:
        body["default_project_id"] = cmd.find("project", args.project)["id"]
    user = cmd.sess.post("/users", json={"user": body}, endpoint_filter=EP)
    client.print_object(args.format, user.json()["user"])


def _role_grant(args: argparse.Namespace) -> None:
    cmd = _Commands(args)
    role = cmd.find("role", args.role)
    user = cmd.find("user", args.user)
    project = cmd.find("project", args.project)
    path = "/projects/%s/users/%s/roles/%s" % (project["id"], user["id"], role["id"])
    if args.action == "add":
        cmd.sess.put(path, endpoint_filter=EP)
    else:
        cmd.sess.delete(path, endpoint_filter=EP)
    print("%s role %s for user %s on project %s" % (
        "granted" if args.action == "add" else "revoked", role["name"], user["name"],
        project["name"]))


def _catalog(args: argparse.Namespace) -> None:
    cmd = _Commands(args)
    catalog = cmd.access().service_catalog.catalog
    rows = [{"Name": s.get("name"), "Type": s.get("type"),
             "Endpoints": ", ".join("%s %s: %s" % (e["region_id"], e["interface"], e["url"])
                                    for e in s.get("endpoints", []))} for s in catalog]
    client.print_rows(args.format, ("Name", "Type", "Endpoints"), rows)


def _build(parser: argparse.ArgumentParser) -> None:
    client.add_common_args(parser)
    fmt = [client.format_parent()]
    nouns = parser.add_subparsers(title="commands", metavar="<noun> <verb>")
    token = nouns.add_parser("token").add_subparsers()
    token.add_parser("issue", help="Issue a token.", parents=fmt).set_defaults(
        func=_token_issue)
    nouns.add_parser("catalog", help="Show the service catalog.", parents=fmt).set_defaults(
        func=_catalog)
    for kind, columns in (("project", ("id", "name", "domain_id", "enabled")),
                          ("user", ("id", "name", "domain_id", "enabled")),
                          ("role", ("id", "name")), ("domain", ("id", "name", "enabled"))):
        verbs = nouns.add_parser(kind).add_subparsers()
        verbs.add_parser("list", parents=fmt).set_defaults(func=_list(kind, columns))
        show = verbs.add_parser("show", parents=fmt)
        show.add_argument("name")
        show.set_defaults(func=_show(kind))
        delete = verbs.add_parser("delete")
        delete.add_argument("name")
        delete.set_defaults(func=_delete(kind))
        if kind == "project":
            create = verbs.add_parser("create", parents=fmt)
            create.add_argument("name")
            create.add_argument("--description")
            create.add_argument("--domain")
            create.set_defaults(func=_project_create)
        elif kind == "user":
            create = verbs.add_parser("create", parents=fmt)
            create.add_argument("name")
            create.add_argument("--password")
            create.add_argument("--project", help="Default project.")
            create.set_defaults(func=_user_create)
        elif kind == "role":
            for action in ("add", "remove"):
                grant = verbs.add_parser(action, help="%s a role on a project" % action)
                grant.add_argument("role")
                grant.add_argument("--user", required=True)
                grant.add_argument("--project", required=True)
                grant.set_defaults(func=_role_grant, action=action)


def register(prog: str, argv: list[str]) -> int:
    """Entry point of the ``identity`` group of ``stratus``."""
    return client.run(prog, argv, _build)
