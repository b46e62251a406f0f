"""[compute_api], [api] enable_instance_password, [quota] and [DEFAULT] service_down_time
options of the compute service."""
from __future__ import annotations

from oslo_config import cfg

API_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("max_limit", default=1000, min=1,
               help="Most items one list request returns (Nova's [api] max_limit)."),
]

# Nova's [api] options beyond the WSGI server's own (common.conf registers those).
API_GROUP_OPTS: list[cfg.Opt] = [
    cfg.BoolOpt("enable_instance_password", default=True,
                help="""
Whether the answer to a rescue carries the rescue password (``adminPass``), as
Nova's option of the same name. Turn it off when the guests cannot take a
password from the cloud, so that users are not shown one that does not work.
"""),
]

QUOTA_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("key_pairs", default=100, min=-1,
               help="Most key pairs one user may own (-1: no limit)."),
    cfg.IntOpt("instances", default=10, min=-1,
               help="Default most servers per project (-1: no limit)."),
    cfg.IntOpt("cores", default=20, min=-1,
               help="Default most vCPUs per project (-1: no limit)."),
    cfg.IntOpt("ram", default=50 * 1024, min=-1,
               help="Default most MiB of RAM per project (-1: no limit)."),
    cfg.IntOpt("metadata_items", default=128, min=-1,
               help="Most metadata items per server."),
    cfg.IntOpt("injected_files", default=5, min=-1,
               help="Most injected files per server (personality)."),
    cfg.IntOpt("injected_file_content_bytes", default=10 * 1024, min=-1,
               help="Most bytes of one injected file."),
    cfg.IntOpt("injected_file_path_length", default=255, min=-1,
               help="Longest injected file path."),
    cfg.IntOpt("server_groups", default=10, min=-1,
               help="Default most server groups per project."),
    cfg.IntOpt("server_group_members", default=10, min=-1,
               help="Default most servers per server group."),
]

# The network quotas Nova's API still shows before microversion 2.36 (proxied
# to the network service in Nova; fixed defaults here, never enforced).
LEGACY_QUOTA_DEFAULTS = {"floating_ips": 10, "fixed_ips": -1, "security_groups": 10,
                         "security_group_rules": 20}

SERVICE_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("service_down_time", default=60, min=1,
               help="Seconds after its last heartbeat at which a compute daemon is "
                    "considered down (the scheduler then skips its hosts). Related "
                    "options: [DEFAULT] report_interval, which should be several times "
                    "smaller."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(API_OPTS, group="compute_api")
    conf.register_opts(API_GROUP_OPTS, group="api")
    conf.register_opts(QUOTA_OPTS, group="quota")
    conf.register_opts(SERVICE_OPTS)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [("compute_api", API_OPTS), ("api", API_GROUP_OPTS), ("quota", QUOTA_OPTS),
            (None, SERVICE_OPTS)]
