"""``stratus-identity-api``: the identity API daemon."""
from __future__ import annotations

import sys

from common import service
from identity import conf as identity_conf


def main() -> None:
    conf = service.prepare("identity", sys.argv, identity_conf.register_opts)
    service.run_api(conf, "stratus-identity-api")


if __name__ == "__main__":
    main()
