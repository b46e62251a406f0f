"""Entry point for oslo-config-generator."""
from __future__ import annotations

from oslo_config import cfg

from common import conf as common_conf
from identity.conf import API_PORT
from identity.conf import identity as identity_opts
from identity.conf import token as token_opts


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [*common_conf.list_opts(API_PORT), *identity_opts.list_opts(),
            *token_opts.list_opts()]
