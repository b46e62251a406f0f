"""``GET /crossdomain.xml``: the cross-domain policy Flash and similar clients ask for
before they talk to another site (answered without a token)."""
from __future__ import annotations

from typing import Any, Callable

import webob

from objectstore.common.registry import register_swift_info

DEFAULT_POLICY = '<allow-access-from domain="*" secure="false" />'
_HEAD = ('<?xml version="1.0"?>\n<!DOCTYPE cross-domain-policy SYSTEM '
         '"http://www.adobe.com/xml/dtds/cross-domain-policy.dtd" >\n'
         '<cross-domain-policy>\n')
_TAIL = "\n</cross-domain-policy>"


class CrossDomain:
    def __init__(self, app: Any, policies: str) -> None:
        self.app = app
        self.body = (_HEAD + policies.strip() + _TAIL).encode("utf-8")

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/crossdomain.xml" and \
                environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            resp = webob.Response(body=self.body, content_type="application/xml",
                                  charset="utf-8")
            return resp(environ, start_response)
        return self.app(environ, start_response)


def filter_factory(global_conf: dict[str, Any], **local_conf: Any
                   ) -> Callable[[Any], CrossDomain]:
    """Paste entry point; ``cross_domain_policy`` holds the policy lines (one or more
    ``<allow-access-from …/>`` elements)."""
    policies = local_conf.get("cross_domain_policy", DEFAULT_POLICY)
    register_swift_info("crossdomain")

    def _filter(app: Any) -> CrossDomain:
        return CrossDomain(app, policies)
    return _filter
