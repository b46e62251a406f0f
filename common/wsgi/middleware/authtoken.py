"""keystonemiddleware's auth_token, configured from the service's own ConfigOpts
([keystone_authtoken] in its config file) rather than the global CONF."""
from __future__ import annotations

from typing import Any, Callable

from keystonemiddleware import auth_token

from common import service


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    conf = service.conf_from_global(global_conf)

    def _filter(app: Any) -> Any:
        return auth_token.AuthProtocol(app, {"oslo_config_config": conf, **local_conf})
    return _filter
