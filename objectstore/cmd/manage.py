"""``stratus-manage objectstore ring ...``: build and inspect the rings.

The object store keeps no database, so its admin group only manages rings: an
operator creates a builder per ring (account, container, object), adds devices,
rebalances (which writes ``<name>.ring.gz`` beside the builder) and copies the ring
files to every node's ``[objectstore] swift_dir``.

Exit status: 0 on success (also when a rebalance moved nothing), 2 on bad input (a
malformed device, an unknown device, a missing builder file), 1 when a file could
not be written.
"""
from __future__ import annotations

import os
import sys
from typing import Any, Callable

from oslo_config import cfg

from common import service
from objectstore import conf as objectstore_conf
from objectstore.common.ring import builder as ring_builder
from objectstore.common.ring.builder import RingBuilder, RingBuilderError

NAME = "objectstore"


class UsageError(Exception):
    """The operator asked for something impossible; exit status 2."""


def ring_file_for(builder_file: str) -> str:
    """``/etc/stratus/object.builder`` → ``/etc/stratus/object.ring.gz``."""
    base, ext = os.path.splitext(builder_file)
    return (base if ext == ".builder" else builder_file) + ".ring.gz"


def _load(conf: cfg.ConfigOpts) -> RingBuilder:
    path = conf.command.ring_builder
    if not os.path.exists(path):
        raise UsageError("builder file %s does not exist (create it first)" % path)
    return RingBuilder.load(path)


def _matching(builder: RingBuilder, search: str) -> list[dict[str, Any]]:
    found = builder.search_devs(ring_builder.parse_search_value(search))
    if not found:
        raise UsageError("no device matches %r" % search)
    return found


def _weight(value: str) -> float:
    try:
        weight = float(value)
    except ValueError:
        raise UsageError("invalid weight %r: a number is expected" % value) from None
    if weight < 0:
        raise UsageError("invalid weight %r: must not be negative" % value)
    return weight


def cmd_create(conf: cfg.ConfigOpts) -> None:
    args = conf.command
    if os.path.exists(args.ring_builder):
        raise UsageError("builder file %s already exists" % args.ring_builder)
    builder = RingBuilder(args.ring_part_power, args.ring_replicas, args.ring_min_part_hours)
    builder.save(args.ring_builder)
    print("Created %s: 2^%d partitions, %d replicas, %d min_part_hours"
          % (args.ring_builder, builder.part_power, builder.replicas, builder.min_part_hours))


def _device_from_args(args: Any) -> dict[str, Any]:
    """The device of ``add``: the positional string, overridden by the options."""
    dev: dict[str, Any] = {}
    if args.ring_device_string:
        dev = ring_builder.parse_add_value(args.ring_device_string)
    for key in ("region", "zone", "ip", "port", "replication_ip", "replication_port",
                "device", "meta"):
        value = getattr(args, "ring_opt_" + key)
        if value is not None:
            dev[key] = value
    weight = args.ring_opt_weight if args.ring_opt_weight is not None else args.ring_weight
    if weight is None:
        raise UsageError("a weight is required (positional or --weight)")
    dev["weight"] = _weight(str(weight))
    missing = [key for key in ("zone", "ip", "port", "device") if dev.get(key) is None]
    if missing:
        raise UsageError("the device needs %s (give r1z1-127.0.0.1:6200/d1 or options)"
                         % ", ".join("--" + key for key in missing))
    return dev


def cmd_add(conf: cfg.ConfigOpts) -> None:
    builder = _load(conf)
    dev_id = builder.add_dev(_device_from_args(conf.command))
    builder.save(conf.command.ring_builder)
    dev = builder.devs[dev_id]
    assert dev is not None
    print("Added device %s with weight %g" % (ring_builder.dev_str(dev), dev["weight"]))


def cmd_set_weight(conf: cfg.ConfigOpts) -> None:
    builder = _load(conf)
    weight = _weight(conf.command.ring_weight)
    for dev in _matching(builder, conf.command.ring_search):
        builder.set_dev_weight(dev["id"], weight)
        print("Set the weight of %s to %g" % (ring_builder.dev_str(dev), weight))
    builder.save(conf.command.ring_builder)


def cmd_remove(conf: cfg.ConfigOpts) -> None:
    builder = _load(conf)
    for dev in _matching(builder, conf.command.ring_search):
        builder.remove_dev(dev["id"])
        print("Marked %s for removal (its partitions move at the next rebalance)"
              % ring_builder.dev_str(dev))
    builder.save(conf.command.ring_builder)


def cmd_rebalance(conf: cfg.ConfigOpts) -> None:
    builder = _load(conf)
    moved, balance = builder.rebalance(seed=conf.command.ring_seed)
    for warning in builder.warnings:
        print("Warning: %s" % warning)
    builder.save(conf.command.ring_builder)
    ring_file = ring_file_for(conf.command.ring_builder)
    builder.write_ring(ring_file)
    print("Reassigned %d partition(s); balance is now %.2f%%" % (moved, balance))
    if not moved and builder.min_part_hours:
        print("(partitions moved in the last %d hour(s) cannot move again yet)"
              % builder.min_part_hours)
    print("Wrote %s" % ring_file)


def cmd_write_ring(conf: cfg.ConfigOpts) -> None:
    builder = _load(conf)
    ring_file = ring_file_for(conf.command.ring_builder)
    builder.write_ring(ring_file)
    print("Wrote %s" % ring_file)


def cmd_pretend(conf: cfg.ConfigOpts) -> None:
    builder = _load(conf)
    builder.pretend_min_part_hours_passed()
    builder.save(conf.command.ring_builder)
    print("Every partition may move at the next rebalance")


def cmd_show(conf: cfg.ConfigOpts) -> None:
    builder = _load(conf)
    counts = builder.parts_per_dev()
    desired = builder.desired_parts()
    devs = [d for d in builder.devs if d is not None]
    print("%s, build version %d" % (conf.command.ring_builder, builder.version))
    print("%d partitions, %d replicas, %d regions, %d zones, %d devices, %.2f balance"
          % (builder.parts, builder.replicas, len({d["region"] for d in devs}),
             len({(d["region"], d["zone"]) for d in devs}), len(devs),
             builder.get_balance()))
    print("The minimum number of hours before a partition can be reassigned is %d"
          % builder.min_part_hours)
    if builder.replica2part2dev is None:
        print("The ring has not been rebalanced yet")
    if not devs:
        print("No devices")
        return
    print("%4s %6s %4s %21s %21s %10s %8s %10s %8s %s" % (
        "id", "region", "zone", "ip:port", "replication ip:port", "name", "weight",
        "partitions", "balance", "flags/meta"))
    for dev in devs:
        want = desired.get(dev["id"])
        balance = "%.2f" % ((counts.get(dev["id"], 0) - want) * 100.0 / want) if want \
            else "-"
        flags = "removing " if dev["id"] in builder.removed_ids else ""
        print("%4d %6d %4d %21s %21s %10s %8g %10d %8s %s" % (
            dev["id"], dev["region"], dev["zone"], _addr(dev["ip"], dev["port"]),
            _addr(dev["replication_ip"], dev["replication_port"]), dev["device"],
            dev["weight"], counts.get(dev["id"], 0), balance, flags + dev["meta"]))


def _addr(ip: str, port: int) -> str:
    return ("[%s]:%d" if ":" in ip else "%s:%d") % (ip, port)


def _builder_arg(parser: Any) -> None:
    parser.add_argument("ring_builder", metavar="builder_file",
                        help="The builder file (e.g. /etc/stratus/object.builder).")


def _add_ring_parsers(subparsers: Any) -> None:
    """``ring create|add|set-weight|remove|rebalance|show|write-ring|pretend...``."""
    ring = subparsers.add_parser("ring", help="Build and inspect rings.")
    actions = ring.add_subparsers(dest="ring_action", metavar="<action>")
    actions.required = True

    def action(name: str, func: Callable[[cfg.ConfigOpts], None], text: str) -> Any:
        parser = actions.add_parser(name, help=text, description=text)
        _builder_arg(parser)
        parser.set_defaults(func=func)
        return parser

    create = action("create", cmd_create, "Create a new, empty builder file.")
    create.add_argument("ring_part_power", metavar="part_power", type=int,
                        help="log2 of the partition count (e.g. 10 for 1024).")
    create.add_argument("ring_replicas", metavar="replicas", type=int)
    create.add_argument("ring_min_part_hours", metavar="min_part_hours", type=int,
                        help="Hours before a moved partition may move again.")

    add = action("add", cmd_add, "Add a device: r1z1-127.0.0.1:6200/d1 100 (or options).")
    add.add_argument("ring_device_string", metavar="device", nargs="?",
                     help="r<region>z<zone>-<ip>:<port>[R<repl ip>:<repl port>]/<name>"
                          "[_<meta>]")
    add.add_argument("ring_weight", metavar="weight", nargs="?")
    for opt, kind in (("region", int), ("zone", int), ("ip", str), ("port", int),
                      ("replication-ip", str), ("replication-port", int),
                      ("device", str), ("meta", str), ("weight", float)):
        add.add_argument("--" + opt, dest="ring_opt_" + opt.replace("-", "_"), type=kind)

    set_weight = action("set-weight", cmd_set_weight, "Change the weight of devices.")
    set_weight.add_argument("ring_search", metavar="device",
                            help="A device id or search (d3, z2, 10.0.0.1:6200/d1, ...).")
    set_weight.add_argument("ring_weight", metavar="weight")

    remove = action("remove", cmd_remove, "Remove devices at the next rebalance.")
    remove.add_argument("ring_search", metavar="device",
                        help="A device id or search (d3, z2, 10.0.0.1:6200/d1, ...).")

    rebalance = action("rebalance", cmd_rebalance,
                       "Reassign partitions and write <name>.ring.gz beside the builder.")
    rebalance.add_argument("--seed", dest="ring_seed", type=int,
                           help="Seed of the random choices (reproducible rings).")

    action("show", cmd_show, "Show the devices, their partitions and the balance.")
    action("write-ring", cmd_write_ring, "Write <name>.ring.gz without rebalancing.")
    action("pretend-min-part-hours-passed", cmd_pretend,
           "Let every partition move at the next rebalance.")


def run_command(conf: cfg.ConfigOpts, prog: str) -> int:
    """Run the parsed command; turns failures into one line and an exit status."""
    label = "%s %s %s" % (prog, conf.command.name, getattr(conf.command, "ring_action", ""))
    try:
        conf.command.func(conf)
    except (UsageError, RingBuilderError) as err:
        print("%s: error: %s" % (label.strip(), err), file=sys.stderr)
        return 2
    except Exception as err:  # the CLI boundary: say what failed, once
        print("%s failed: %s: %s" % (label.strip(), type(err).__name__, err), file=sys.stderr)
        return 1
    return 0


def register(prog: str, argv: list[str]) -> int:
    """Entry point of the ``objectstore`` group of stratus-manage.

    argparse exits with status 2 (SystemExit) on a malformed command line.
    """
    conf = cfg.ConfigOpts()
    conf.register_cli_opt(cfg.SubCommandOpt("command", handler=_add_ring_parsers,
                                            title="Commands"))
    service.prepare(NAME, [prog] + argv, objectstore_conf.register_opts, conf=conf,
                    prog="stratus-manage-" + NAME)
    return run_command(conf, prog)

