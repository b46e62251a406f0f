"""``stratus-image-api``: the image API daemon (port 9292)."""
from __future__ import annotations

import sys

from common import service
from image import conf as image_conf


def main() -> None:
    conf = service.prepare("image", sys.argv, image_conf.register_opts)
    service.run_api(conf, "stratus-image-api")


if __name__ == "__main__":
    main()
