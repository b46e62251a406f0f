"""The dashboard's WSGI application: Django, with WhiteNoise for /static/."""
from __future__ import annotations

import os
from typing import Any

from oslo_config import cfg

from dashboard import settings


def make_app(conf: cfg.ConfigOpts) -> Any:
    settings.configure(conf)
    from django.core.wsgi import get_wsgi_application
    from whitenoise import WhiteNoise

    app = get_wsgi_application()
    return WhiteNoise(app, root=os.path.join(settings.HERE, "static"), prefix="static/",
                      max_age=3600)
