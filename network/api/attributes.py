"""Attribute conversion and validation, the way Neutron's API applies them.

A validator takes a value and returns an error message (or None); a converter
returns the converted value or raises InvalidInput.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any, Callable

import netaddr

from network import exception

NOT_SPECIFIED: Any = object()
#: Default of an optional attribute that stays absent from the body when omitted.
OPTIONAL: Any = object()
Validator = Callable[[Any], "str | None"]
Converter = Callable[[Any], Any]

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                   r"[0-9a-fA-F]{12}$")
_MAC = re.compile(r"^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$")


@dataclasses.dataclass(frozen=True)
class Attr:
    """One attribute of a resource (Neutron's RESOURCE_ATTRIBUTE_MAP entry)."""

    allow_post: bool = False
    allow_put: bool = False
    default: Any = NOT_SPECIFIED
    convert: Converter | None = None
    validate: Validator | None = None
    is_visible: bool = True
    required_by_policy: bool = False
    enforce_policy: bool = False
    is_filter: bool = True

    @property
    def required(self) -> bool:
        return self.allow_post and self.default is NOT_SPECIFIED


# -- converters ----------------------------------------------------------------------


def to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
    raise exception.InvalidInput(error_message="'%s' cannot be converted to boolean" % value)


def to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise exception.InvalidInput(error_message="'%s' is not an integer" % value)
    try:
        return int(value)
    except (ValueError, TypeError):
        raise exception.InvalidInput(error_message="'%s' is not an integer" % value)


def to_int_or_none(value: Any) -> int | None:
    return None if value is None else to_int(value)


def none_to_empty_list(value: Any) -> Any:
    return [] if value is None else value


def none_to_empty_dict(value: Any) -> Any:
    return {} if value is None else value


def to_protocol(value: Any) -> str | None:
    """Protocol names are lowered; numbers stay strings (as Neutron stores them)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise exception.InvalidInput(error_message="Protocol %s is not supported" % value)
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise exception.InvalidInput(error_message="Protocol %s is not supported" % value)
    return value.lower()


def to_upper_ethertype(value: Any) -> Any:
    if isinstance(value, str) and value.lower() in ("ipv4", "ipv6"):
        return "IPv" + value[-1]
    return value


# -- validators ----------------------------------------------------------------------


def string(max_len: int | None = 255) -> Validator:
    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return "'%s' is not a valid string" % (value,)
        if max_len is not None and len(value) > max_len:
            return "'%s' exceeds maximum length of %s" % (value, max_len)
        return None
    return check


def string_or_none(max_len: int | None = 255) -> Validator:
    inner = string(max_len)
    return lambda value: None if value is None else inner(value)


def is_uuid(value: Any) -> bool:
    return isinstance(value, str) and bool(_UUID.match(value))


def uuid(value: Any) -> str | None:
    return None if is_uuid(value) else "'%s' is not a valid UUID" % (value,)


def uuid_or_none(value: Any) -> str | None:
    return None if value is None else uuid(value)


def uuid_list(value: Any) -> str | None:
    if not isinstance(value, list):
        return "'%s' is not a list" % (value,)
    for item in value:
        msg = uuid(item)
        if msg:
            return msg
    if len(set(value)) != len(value):
        return "Duplicate items in the list: '%s'" % ", ".join(value)
    return None


def boolean(value: Any) -> str | None:
    try:
        to_boolean(value)
    except exception.InvalidInput as err:
        return err.message
    return None


def values(allowed: list[Any]) -> Validator:
    def check(value: Any) -> str | None:
        if value not in allowed:
            return "'%s' is not in %s" % (value, allowed)
        return None
    return check


def values_or_none(allowed: list[Any]) -> Validator:
    inner = values(allowed)
    return lambda value: None if value is None else inner(value)


def int_range(low: int, high: int) -> Validator:
    def check(value: Any) -> str | None:
        if not isinstance(value, int) or isinstance(value, bool):
            return "'%s' is not an integer" % (value,)
        if not low <= value <= high:
            return "'%s' is not in range %s through %s" % (value, low, high)
        return None
    return check


def ip_address(value: Any) -> str | None:
    if not isinstance(value, str):
        return "'%s' is not a valid IP address" % (value,)
    try:
        addr = netaddr.IPAddress(value, flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return "'%s' is not a valid IP address" % value
    if ":" not in value and str(addr) != value:
        return "'%s' is not an accepted IP address, '%s' is recommended" % (value, addr)
    return None


def ip_address_or_none(value: Any) -> str | None:
    return None if value is None else ip_address(value)


def subnet_cidr(value: Any) -> str | None:
    """A CIDR with no host bits set (Neutron's subnet validator)."""
    if not isinstance(value, str) or "/" not in value:
        return "'%s' is not a valid IP subnet" % (value,)
    try:
        net = netaddr.IPNetwork(value)
        netaddr.IPAddress(value.split("/")[0], flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return "'%s' is not a valid IP subnet" % value
    if str(net.cidr) != value:
        return "'%s' isn't a recommended CIDR, '%s' should be specified instead" % (
            value, net.cidr)
    return None


def subnet_cidr_or_none(value: Any) -> str | None:
    return None if value is None else subnet_cidr(value)


def ip_or_cidr(value: Any) -> str | None:
    """An address or a network, host bits allowed (allowed address pairs, prefixes)."""
    if not isinstance(value, str):
        return "'%s' is neither a valid IP address, nor is it a valid IP subnet" % (value,)
    try:
        netaddr.IPNetwork(value)
        netaddr.IPAddress(value.split("/")[0], flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return "'%s' is neither a valid IP address, nor is it a valid IP subnet" % value
    return None


def mac_address(value: Any) -> str | None:
    if not isinstance(value, str) or not _MAC.match(value):
        return "'%s' is not a valid MAC address" % (value,)
    if int(value.replace(":", "").replace("-", ""), 16) == 0 or \
            value.lower() == "ff:ff:ff:ff:ff:ff":
        return "'%s' is not a valid MAC address" % value
    return None


def list_of(item: Validator) -> Validator:
    def check(value: Any) -> str | None:
        if not isinstance(value, list):
            return "'%s' is not a list" % (value,)
        for element in value:
            msg = item(element)
            if msg:
                return msg
        return None
    return check


def unique_list_of(item: Validator) -> Validator:
    inner = list_of(item)

    def check(value: Any) -> str | None:
        msg = inner(value)
        if msg:
            return msg
        seen = [str(v) for v in value]
        if len(set(seen)) != len(seen):
            return "Duplicate items in the list: '%s'" % ", ".join(seen)
        return None
    return check


def dict_with(keys: dict[str, Validator], required: tuple[str, ...] = (),
              optional_extra: bool = False) -> Validator:
    def check(value: Any) -> str | None:
        if not isinstance(value, dict):
            return "'%s' is not a dictionary" % (value,)
        for key in required:
            if key not in value:
                return "Validation of dictionary's keys failed. Expected keys: %s " \
                       "Provided keys: %s" % (sorted(keys), sorted(value))
        for key, item in value.items():
            if key not in keys:
                if optional_extra:
                    continue
                return "Unrecognized attribute(s) '%s'" % key
            msg = keys[key](item)
            if msg:
                return msg
        return None
    return check


def any_dict(value: Any) -> str | None:
    return None if isinstance(value, dict) else "'%s' is not a dictionary" % (value,)


def any_dict_or_none(value: Any) -> str | None:
    return None if value is None else any_dict(value)


def check(name: str, value: Any, validator: Validator | None) -> None:
    """:raises: InvalidInput with Neutron's message when ``value`` is not valid."""
    if validator is None:
        return
    msg = validator(value)
    if msg:
        raise exception.InvalidInput(error_message="Invalid input for %s. Reason: %s."
                                     % (name, msg))


def ip_or_cidr_or_none(value: Any) -> str | None:
    return None if value is None else ip_or_cidr(value)
