"""Django settings built from the dashboard's oslo.config options.

There is no settings module on disk: :func:`configure` hands Django a dict, so
one process (or one test) decides everything from its config file.  No database:
sessions are files, messages ride in the session, and users are Keystone's.
"""
from __future__ import annotations

import os
import secrets
from typing import Any

from oslo_config import cfg

HERE = os.path.dirname(os.path.abspath(__file__))


def _secret_key(path: str) -> str:
    """The signing key in ``path``, made once (mode 600) and kept across restarts."""
    try:
        with open(path) as handle:
            key = handle.read().strip()
        if key:
            return key
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def build(conf: cfg.ConfigOpts) -> dict[str, Any]:
    dash = conf.dashboard
    state = conf.state_path
    session_dir = dash.session_dir or os.path.join(state, "dashboard-sessions")
    os.makedirs(session_dir, mode=0o700, exist_ok=True)
    secure = bool(dash.secure_cookies)
    return {
        "DEBUG": bool(dash.debug_pages),
        "SECRET_KEY": _secret_key(dash.secret_key_file or os.path.join(state, "dashboard.key")),
        "ALLOWED_HOSTS": list(dash.allowed_hosts),
        "CSRF_TRUSTED_ORIGINS": list(dash.csrf_trusted_origins),
        "ROOT_URLCONF": "dashboard.urls",
        "INSTALLED_APPS": ["django.contrib.sessions", "django.contrib.messages",
                           "dashboard"],
        "MIDDLEWARE": [
            "django.middleware.security.SecurityMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
            "dashboard.middleware.KeystoneSessionMiddleware",
            "dashboard.middleware.ApiErrorMiddleware",
        ],
        "TEMPLATES": [{
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [os.path.join(HERE, "templates")],
            "APP_DIRS": False,
            "OPTIONS": {"context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csrf",
                "django.contrib.messages.context_processors.messages",
                "dashboard.navigation.context",
            ],
                "builtins": ["dashboard.templatetags.stratus"]},
        }],
        "DATABASES": {},
        "SESSION_ENGINE": "django.contrib.sessions.backends.file",
        "SESSION_FILE_PATH": session_dir,
        "SESSION_COOKIE_NAME": "stratus_session",
        "SESSION_COOKIE_AGE": int(dash.session_timeout),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_SERIALIZER": "django.contrib.sessions.serializers.JSONSerializer",
        "CSRF_COOKIE_SECURE": secure,
        "CSRF_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SAMESITE": "Lax",
        "CSRF_FAILURE_VIEW": "dashboard.views.csrf_failure",
        "MESSAGE_STORAGE": "django.contrib.messages.storage.session.SessionStorage",
        "X_FRAME_OPTIONS": "SAMEORIGIN",
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "STATIC_URL": "/static/",
        "STATIC_ROOT": os.path.join(HERE, "static"),
        "USE_TZ": True,
        "TIME_ZONE": "UTC",
        "USE_I18N": False,
        "DATA_UPLOAD_MAX_MEMORY_SIZE": 2621440,
        "FILE_UPLOAD_MAX_MEMORY_SIZE": 2621440,
        "FILE_UPLOAD_TEMP_DIR": None,
        "DEFAULT_AUTO_FIELD": "django.db.models.AutoField",
        "LOGGING_CONFIG": None,
        # What the views read (not Django's own).
        "STRATUS_AUTH_URL": dash.auth_url,
        "STRATUS_REGION": dash.region_name,
        "STRATUS_INTERFACE": dash.interface,
        "STRATUS_DEFAULT_DOMAIN": dash.default_domain,
        "STRATUS_API_TIMEOUT": int(dash.api_timeout),
        "STRATUS_MAX_UPLOAD_MB": int(dash.max_upload_mb),
    }


def configure(conf: cfg.ConfigOpts) -> None:
    """Configure Django from ``conf`` and set it up (once per process)."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(**build(conf))
    django.setup()
