"""The dashboard's WSGI application: Django, with WhiteNoise for /static/."""
from __future__ import annotations

import os
import warnings
from typing import Any

from oslo_config import cfg

from dashboard import settings


def make_app(conf: cfg.ConfigOpts) -> Any:
    # openstacksdk warns about its own deprecations on every call: not the
    # operator's business, and it would flood the log.
    warnings.filterwarnings("ignore", module=r"openstack(\..*)?$")
    settings.configure(conf)
    from django.core.wsgi import get_wsgi_application
    from whitenoise import WhiteNoise

    app = get_wsgi_application()
    return WhiteNoise(app, root=os.path.join(settings.HERE, "static"), prefix="static/",
                      max_age=3600)
