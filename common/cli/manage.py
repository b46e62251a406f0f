"""``stratus-manage <service> ...``: the operators' admin tool."""
from __future__ import annotations

import sys

from common.cli import dispatch


def main() -> None:
    sys.exit(dispatch.run("stratus.manage", "stratus-manage", sys.argv[1:]))
