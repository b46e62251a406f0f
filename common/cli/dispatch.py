"""Finds service command groups through entry points (common never imports services)."""
from __future__ import annotations

import sys
from importlib import metadata
from typing import Callable


def groups(entry_point_group: str) -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=entry_point_group)}


def run(entry_point_group: str, prog: str, argv: list[str]) -> int:
    """``prog <service> ...``: hand the rest of the command line to the service."""
    found = groups(entry_point_group)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in found:
        names = ", ".join(sorted(found)) or "(none installed)"
        out = sys.stdout if argv and argv[0] in ("-h", "--help") else sys.stderr
        print("usage: %s <service> [options] <command> ...\nservices: %s" % (prog, names),
              file=out)
        if argv and argv[0] not in ("-h", "--help"):
            print("%s: unknown service %r" % (prog, argv[0]), file=sys.stderr)
            return 2
        return 0 if argv else 2
    handler: Callable[[str, list[str]], int] = found[argv[0]].load()
    try:
        return int(handler("%s %s" % (prog, argv[0]), argv[1:]) or 0)
    except BrokenPipeError:
        # Output piped into `head` and the like: not an error worth a traceback.
        sys.stderr.close()
        return 0
