"""``[metadata]`` options: stratus-compute-metadata (the metadata API guests read
through the network service's metadata agent) and the content it and the config
drive serve."""
from __future__ import annotations

from oslo_config import cfg

METADATA_PORT = 8775

METADATA_OPTS: list[cfg.Opt] = [
    cfg.HostAddressOpt("bind_host", default="0.0.0.0",
                       help="Address stratus-compute-metadata listens on."),
    cfg.PortOpt("bind_port", default=METADATA_PORT,
                help="Port stratus-compute-metadata listens on (the network service's "
                     "[metadata] nova_metadata_port)."),
    cfg.IntOpt("threads", default=16, min=1,
               help="Worker threads of the metadata server (requests served at once)."),
    cfg.StrOpt("metadata_proxy_shared_secret", default="", secret=True,
               help="Secret shared with the network service's metadata agent: requests "
                    "must carry X-Instance-ID-Signature, the HMAC-SHA256 (hex) of "
                    "X-Instance-ID under this secret. Related options: the network "
                    "service's [metadata] metadata_proxy_shared_secret."),
    cfg.IntOpt("metadata_cache_expiration", default=15, min=0,
               help="Seconds the documents built for one instance are reused for the "
                    "next requests of that instance (a guest asks many paths in a row). "
                    "0 disables the cache."),
    cfg.StrOpt("vendordata_jsonfile_path",
               help="A JSON file (an object) served to guests as vendor_data.json. "
                    "Unset: vendor_data.json is {}."),
    cfg.StrOpt("dhcp_domain", default="novalocal",
               help="Domain appended to the instance's hostname in the metadata "
                    "(``hostname``, ``local-hostname``). Empty: the bare hostname."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(METADATA_OPTS, group="metadata")


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [("metadata", METADATA_OPTS)]
