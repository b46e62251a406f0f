"""[image], [store], [quota] and [task] options of the image service."""
from __future__ import annotations

from oslo_config import cfg

IMAGE_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("image_size_cap", default=1099511627776, min=1,
               help="Largest image, in bytes, that may be uploaded (default 1 TiB)."),
    cfg.BoolOpt("require_image_format_match", default=True,
                help="Refuse uploads whose bytes do not look like the declared disk_format "
                     "(415), as Glance does by default. Disable to accept any bytes."),
    cfg.ListOpt("disk_formats", default=["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw",
                                         "qcow2", "vdi", "iso", "ploop"],
                help="Disk formats images may declare."),
    cfg.ListOpt("container_formats", default=["ami", "ari", "aki", "bare", "ovf", "ova",
                                              "docker", "compressed"],
                help="Container formats images may declare."),
    cfg.IntOpt("image_member_quota", default=128, min=-1,
               help="Most members an image may have (-1: no limit)."),
    cfg.IntOpt("image_tag_quota", default=128, min=-1,
               help="Most tags an image may have (-1: no limit)."),
    cfg.IntOpt("image_property_quota", default=128, min=-1,
               help="Most custom properties an image may have (-1: no limit)."),
    cfg.IntOpt("limit_param_default", default=25, min=1,
               help="Images per page when a list request gives no limit."),
    cfg.IntOpt("api_limit_max", default=1000, min=1,
               help="Most images one list request returns."),
    cfg.IntOpt("registry_timeout", default=30, min=1,
               help="Seconds the API waits for the registry to answer an RPC call."),
    cfg.StrOpt("staging_dir", default="$state_path/images/staging",
               help="Where data uploaded with PUT /v2/images/{id}/stage waits for import."),
]

STORE_OPTS: list[cfg.Opt] = [
    cfg.StrOpt("default_store", default="file", choices=["file", "swift"],
               help="The store new image data goes to: ``file`` (a directory) or "
                    "``swift`` (the object store, in the image service's own account, "
                    "with the credentials of [swift_store]). Images already stored keep "
                    "their location in the other store."),
    cfg.BoolOpt("swift_store_enabled", default=False,
                help="Read and delete image data kept in the object store even when "
                     "default_store is ``file`` (after switching back)."),
    cfg.StrOpt("swift_store_container", default="images",
               help="Container of the image data in the object store."),
    cfg.IntOpt("swift_store_large_object_chunk_size", default=200, min=1,
               help="Size in MiB of the segments image data is stored in (a static "
                    "large object of these segments)."),
    cfg.StrOpt("filesystem_store_datadir", default="$state_path/images/data",
               help="Directory of the filesystem store."),
]

QUOTA_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("image_count_total", default=-1, min=-1,
               help="Most images one project may own (-1: no limit)."),
    cfg.IntOpt("image_size_total", default=-1, min=-1,
               help="Most bytes of image data one project may store, in MiB (-1: no limit)."),
]

TASK_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("task_time_to_live", default=48, min=1,
               help="Hours an ended task (an image import that succeeded or failed) stays "
                    "listed in GET /v2/images/{image_id}/tasks before it is removed, as "
                    "Glance's option of this name. Read by stratus-image-registry."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(IMAGE_OPTS, group="image")
    conf.register_opts(STORE_OPTS, group="store")
    conf.register_opts(QUOTA_OPTS, group="quota")
    conf.register_opts(TASK_OPTS, group="task")


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [("image", IMAGE_OPTS), ("store", STORE_OPTS), ("quota", QUOTA_OPTS),
            ("task", TASK_OPTS)]
