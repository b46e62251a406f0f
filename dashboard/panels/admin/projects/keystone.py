"""The Keystone v3 proxy of the request's connection (typed as v3: the
dashboard speaks only Identity v3)."""
from __future__ import annotations

from typing import Any, cast

from openstack.identity.v3._proxy import Proxy

from dashboard import cloud


def v3(request: Any) -> Proxy:
    return cast(Proxy, cloud.connection(request).identity)
