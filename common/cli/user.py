"""``stratus <service> ...``: the users' command-line client."""
from __future__ import annotations

import sys

from common.cli import dispatch


def main() -> None:
    sys.exit(dispatch.run("stratus.cli", "stratus", sys.argv[1:]))
