"""The limits of the object store API (Swift's defaults), and the checks that use them.

The proxy reports them under ``swift`` in ``GET /info``; the storage servers check
the same limits so a request that bypasses the proxy cannot exceed them either.
"""
from __future__ import annotations

from typing import Mapping

from oslo_config import cfg

OPTS: list[cfg.Opt] = [
    cfg.IntOpt("max_file_size", default=5368709122, min=1,
               help="Largest object a single PUT may store, in bytes (larger ones need "
                    "segments: SLO or DLO)."),
    cfg.IntOpt("max_meta_name_length", default=128, min=1,
               help="Longest metadata name (after the X-*-Meta- prefix)."),
    cfg.IntOpt("max_meta_value_length", default=256, min=1, help="Longest metadata value."),
    cfg.IntOpt("max_meta_count", default=90, min=1,
               help="Most metadata items on one account, container or object."),
    cfg.IntOpt("max_meta_overall_size", default=4096, min=1,
               help="Most bytes of metadata (names + values) on one resource."),
    cfg.IntOpt("max_header_size", default=8192, min=1, help="Longest request header line."),
    cfg.IntOpt("max_object_name_length", default=1024, min=1,
               help="Longest object name, in bytes of UTF-8."),
    cfg.IntOpt("container_listing_limit", default=10000, min=1,
               help="Most entries one container listing returns."),
    cfg.IntOpt("account_listing_limit", default=10000, min=1,
               help="Most entries one account listing returns."),
    cfg.IntOpt("max_account_name_length", default=256, min=1,
               help="Longest account name, in bytes of UTF-8."),
    cfg.IntOpt("max_container_name_length", default=256, min=1,
               help="Longest container name, in bytes of UTF-8."),
]

GROUP = "constraints"


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(GROUP, OPTS)]


def limits(conf: cfg.ConfigOpts) -> dict[str, int]:
    """The limits as ``GET /info`` shows them."""
    group = conf[GROUP]
    return {opt.dest: int(group[opt.dest]) for opt in OPTS}


def check_utf8(name: str) -> bool:
    """True when ``name`` is valid UTF-8 text without NUL (names arrive as str with
    surrogateescape'd bytes when they were not UTF-8)."""
    if not name or "\x00" in name:
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_name(name: str, max_length: int, what: str) -> str | None:
    """An error message for a bad account/container/object name, or None."""
    if not check_utf8(name):
        return "Invalid UTF8 or contains NULL"
    if len(name.encode("utf-8")) > max_length:
        return "%s name length of %d longer than %d" % (
            what, len(name.encode("utf-8")), max_length)
    if what == "Container" and "/" in name:
        return "Container name cannot contain slashes"
    return None


def check_metadata(conf: cfg.ConfigOpts, headers: Mapping[str, str], target: str) -> str | None:
    """An error message when ``X-<target>-Meta-*`` headers break the limits, or None.

    ``target`` is ``account``, ``container`` or ``object``. Only what the request
    carries is counted (as Swift does).
    """
    group = conf[GROUP]
    prefix = "x-%s-meta-" % target.lower()
    count = 0
    size = 0
    for key, value in headers.items():
        lkey = key.lower()
        if not lkey.startswith(prefix):
            continue
        name = key[len(prefix):]
        if not name:
            return "Metadata name cannot be empty"
        if not check_utf8(value) and value != "":
            return "Metadata must be valid UTF-8"
        count += 1
        size += len(name) + len(value)
        if len(name) > group.max_meta_name_length:
            return "Metadata name too long: %s%s" % (prefix, name)
        if len(value) > group.max_meta_value_length:
            return "Metadata value longer than %d: %s%s" % (
                group.max_meta_value_length, prefix, name)
        if count > group.max_meta_count:
            return "Too many metadata items; max %d" % group.max_meta_count
        if size > group.max_meta_overall_size:
            return "Total metadata too large; max %d" % group.max_meta_overall_size
    return None
