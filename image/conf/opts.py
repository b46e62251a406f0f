"""Entry point for oslo-config-generator."""
from __future__ import annotations

from oslo_config import cfg

from common import conf as common_conf
from common.clients import base as clients_base
from image.conf import API_PORT, SWIFT_GROUP
from image.conf import image as image_opts


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [*common_conf.list_opts(API_PORT), *image_opts.list_opts(),
            *clients_base.list_opts(SWIFT_GROUP)]
