"""Dashboard options ([DEFAULT] shared ones, [api] listener, [dashboard])."""
from __future__ import annotations

from oslo_config import cfg

from common import conf as common_conf

API_PORT = 8000

DASHBOARD_OPTS: list[cfg.Opt] = [
    cfg.URIOpt("auth_url", default="http://127.0.0.1:5000/v3",
               help="Identity API (v3) the dashboard logs users in with."),
    cfg.StrOpt("region_name", default="RegionOne",
               help="Region whose endpoints the dashboard uses."),
    cfg.StrOpt("interface", default="public", choices=["public", "internal", "admin"],
               help="Which endpoint of each service the dashboard calls."),
    cfg.StrOpt("default_domain", default="Default",
               help="Domain prefilled on the login page."),
    cfg.StrOpt("secret_key_file",
               help="File holding the key that signs sessions and CSRF tokens; made "
                    "(mode 600) when missing. Unset means <state_path>/dashboard.key."),
    cfg.StrOpt("session_dir",
               help="Directory of the session files. Unset means "
                    "<state_path>/dashboard-sessions."),
    cfg.IntOpt("session_timeout", default=3600, min=60,
               help="Seconds a login lasts at most (the token's own expiry wins "
                    "when it is sooner)."),
    cfg.BoolOpt("secure_cookies", default=False,
                help="Mark session and CSRF cookies Secure (set when the dashboard "
                     "is served over HTTPS, e.g. behind a TLS proxy)."),
    cfg.ListOpt("allowed_hosts", default=["*"],
                help="Host names the dashboard answers to (Django's ALLOWED_HOSTS)."),
    cfg.ListOpt("csrf_trusted_origins", default=[],
                help="Origins (scheme://host:port) trusted for form posts behind "
                     "a proxy that changes the origin."),
    cfg.IntOpt("api_timeout", default=60, min=1,
               help="Seconds one call to a service API may take."),
    cfg.IntOpt("max_upload_mb", default=4096, min=1,
               help="Largest image or object upload through the dashboard, in MiB."),
    cfg.BoolOpt("debug_pages", default=False,
                help="Show Django's debug pages with tracebacks (development only; "
                     "never on a reachable host)."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    common_conf.register_opts(conf, api_port=API_PORT)
    conf.register_opts(DASHBOARD_OPTS, group="dashboard")


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return common_conf.list_opts(API_PORT) + [("dashboard", DASHBOARD_OPTS)]
