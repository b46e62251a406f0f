"""What every service's user CLI shares: auth from OS_* variables, output, errors."""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import uuid
from typing import Any, Callable, Sequence

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3


class CLIError(Exception):
    """A failure the user can act on; printed without a traceback."""


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--format", choices=("table", "json", "value"), default="table",
                        help="Output format (default: table).")
    parser.add_argument("--os-cloud-url", dest="auth_url", default=os.environ.get("OS_AUTH_URL"),
                        help="Identity URL (default: $OS_AUTH_URL).")


def format_parent() -> argparse.ArgumentParser:
    """A parent parser so ``-f`` is also accepted after the command words."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("-f", "--format", choices=("table", "json", "value"),
                        default=argparse.SUPPRESS, help="Output format.")
    return parent


def session_from_env(auth_url: str | None) -> ks_session.Session:
    env = os.environ
    if not auth_url:
        raise CLIError("No identity URL: set OS_AUTH_URL, e.g. `source /opt/stratus/openrc`.")
    if env.get("OS_TOKEN"):
        auth: Any = v3.Token(auth_url=auth_url, token=env["OS_TOKEN"],
                             project_name=env.get("OS_PROJECT_NAME"),
                             project_domain_name=env.get("OS_PROJECT_DOMAIN_NAME", "Default"))
    else:
        if not env.get("OS_USERNAME") or not env.get("OS_PASSWORD"):
            raise CLIError("No credentials: set OS_USERNAME and OS_PASSWORD (or OS_TOKEN), "
                           "e.g. `source /opt/stratus/openrc`.")
        auth = v3.Password(auth_url=auth_url, username=env["OS_USERNAME"],
                           password=env["OS_PASSWORD"],
                           user_domain_name=env.get("OS_USER_DOMAIN_NAME", "Default"),
                           project_name=env.get("OS_PROJECT_NAME"),
                           project_domain_name=env.get("OS_PROJECT_DOMAIN_NAME", "Default"))
    return ks_session.Session(auth=auth)


def print_rows(fmt: str, columns: Sequence[str], rows: list[dict[str, Any]]) -> None:
    if fmt == "json":
        print(json.dumps([{c: r.get(c) for c in columns} for r in rows], indent=2))
        return
    if fmt == "value":
        for row in rows:
            print(" ".join(str(row.get(c, "")) for c in columns))
        return
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    print(line)
    print("| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)) + " |")
    print(line)
    for cell_row in cells:
        print("| " + " | ".join(v.ljust(w) for v, w in zip(cell_row, widths, strict=True))
              + " |")
    print(line)


def print_object(fmt: str, obj: dict[str, Any]) -> None:
    if fmt == "json":
        print(json.dumps(obj, indent=2))
        return
    rows = [{"Field": k, "Value": v if isinstance(v, str) else json.dumps(v)}
            for k, v in sorted(obj.items()) if k != "links"]
    print_rows(fmt, ("Field", "Value") if fmt == "table" else ("Value",), rows)


def run(prog: str, argv: list[str], build: Callable[[argparse.ArgumentParser], None]) -> int:
    """Parse ``argv`` with the parser ``build`` fills, run the chosen command."""
    parser = argparse.ArgumentParser(prog=prog)
    build(parser)
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        args.func(args)
    except CLIError as err:
        print("%s: %s" % (prog, err), file=sys.stderr)
        return 1
    except ks_exc.Unauthorized:
        print("%s: authentication failed: check OS_USERNAME/OS_PASSWORD/OS_PROJECT_NAME "
              "(or your token expired)." % prog, file=sys.stderr)
        return 1
    except ks_exc.HttpError as err:
        print("%s: %s (HTTP %s, request %s)" % (prog, _message(err), err.http_status,
                                                err.request_id), file=sys.stderr)
        return 1
    except ks_exc.ConnectFailure as err:
        print("%s: cannot reach the cloud: %s. Is it running (devstack/stack.sh)?"
              % (prog, err), file=sys.stderr)
        return 1
    return 0


def _message(err: ks_exc.HttpError) -> str:
    try:
        body = err.response.json()  # type: ignore[union-attr]
        for value in body.values():
            if isinstance(value, dict) and value.get("message"):
                return str(value["message"])
    except (ValueError, AttributeError):
        pass
    return str(err.message or err)


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def error_text(resp: Any) -> str:
    """The message of an OpenStack error response, whatever the service's format."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key, value in [("", body), *body.items()]:
            if isinstance(value, dict) and value.get("message"):
                kind = value.get("type") if key == "NeutronError" else None
                return ("%s: %s" % (kind, value["message"])) if kind else str(value["message"])
    text = re.sub(r"<[^>]+>", " ", getattr(resp, "text", "") or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if lines and re.match(r"^\d{3} ", lines[0]):
        lines = lines[1:] or lines
    return " ".join(lines)[:500] or "HTTP %s" % getattr(resp, "status_code", "?")


class ServiceClient:
    """The user's session on one service: its endpoint from the catalog (OS_INTERFACE,
    OS_REGION_NAME), every non-``ok`` answer turned into a CLIError with its message."""

    def __init__(self, auth_url: str | None, service_type: str, prefix: str = "") -> None:
        self.sess = session_from_env(auth_url)
        self.service_type = service_type
        self.prefix = prefix
        self.ep: dict[str, Any] = {"service_type": service_type,
                                   "interface": os.environ.get("OS_INTERFACE") or "public"}
        if os.environ.get("OS_REGION_NAME"):
            self.ep["region_name"] = os.environ["OS_REGION_NAME"]

    def request(self, method: str, path: str, ok: tuple[int, ...] = (200,),
                **kwargs: Any) -> Any:
        """Send ``method path``; :raises: CLIError unless the status is in ``ok``."""
        kwargs.setdefault("raise_exc", False)
        try:
            resp = self.sess.request(self.prefix + path, method, endpoint_filter=self.ep,
                                     **kwargs)
        except ks_exc.EndpointNotFound:
            raise CLIError(
                "the service catalog has no %(t)s endpoint: is the %(t)s service enabled "
                "(devstack/stack.sh with ENABLED_SERVICES including it)? "
                "`openstack catalog list` shows what there is." % {"t": self.service_type})
        if resp.status_code == 401:
            raise ks_exc.Unauthorized(response=resp)
        if resp.status_code not in ok:
            raise CLIError("%s (HTTP %s, request %s)" % (
                error_text(resp), resp.status_code,
                resp.headers.get("X-OpenStack-Request-ID", "-")))
        return resp
