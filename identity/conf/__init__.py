"""Identity options: registered by ``register_opts``, read at call time."""
from __future__ import annotations

from oslo_config import cfg

from common import conf as common_conf
from identity.conf import identity as identity_opts
from identity.conf import token as token_opts

API_PORT = 5000


def register_opts(conf: cfg.ConfigOpts) -> None:
    common_conf.register_opts(conf, api_port=API_PORT)
    identity_opts.register_opts(conf)
    token_opts.register_opts(conf)
