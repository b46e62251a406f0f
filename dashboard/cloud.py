"""The openstacksdk connection a request uses: the logged-in user's own token.

One keystoneauth session per request, sharing one version-discovery cache per
process, so a page costs only its own API calls.
"""
from __future__ import annotations

from typing import Any

import openstack
from django.conf import settings
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import access as ks_access_plugin

from dashboard import auth

# keystoneauth's discovery results, by endpoint; shared by every request.
_DISCOVERY: dict[str, Any] = {}


def connection(request: Any) -> openstack.connection.Connection:
    """The request's Connection (made once per request)."""
    conn = getattr(request, "_stratus_conn", None)
    if conn is None:
        state = request.session[auth.SESSION_KEY]
        plugin = ks_access_plugin.AccessInfoPlugin(auth_ref=auth.access(state),
                                                   auth_url=settings.STRATUS_AUTH_URL)
        sess = ks_session.Session(auth=plugin, timeout=settings.STRATUS_API_TIMEOUT,
                                  app_name="stratus-dashboard",
                                  discovery_cache=_DISCOVERY)
        conn = openstack.connection.Connection(
            session=sess, region_name=settings.STRATUS_REGION,
            interface=settings.STRATUS_INTERFACE)
        request._stratus_conn = conn
    return conn
