"""Attribute converters and validators (Neutron's rules)."""
from __future__ import annotations

import pytest

from network import exception
from network.api import attributes as a


@pytest.mark.parametrize("value,expected", [
    (True, True), (False, False), ("true", True), ("True", True), ("FALSE", False),
    ("1", True), ("0", False), (1, True), (0, False)])
def test_to_boolean(value: object, expected: bool) -> None:
    assert a.to_boolean(value) is expected


@pytest.mark.parametrize("value", ["yes", "", None, 2, [], "tru"])
def test_to_boolean_rejects(value: object) -> None:
    with pytest.raises(exception.InvalidInput):
        a.to_boolean(value)


def test_uuid() -> None:
    assert a.uuid("9b6ee6b8-3d86-4b5b-a1a5-e5f5a6f5a5a5") is None
    assert a.uuid("9b6ee6b83d864b5ba1a5e5f5a6f5a5a5") is None
    for bad in ("x", "", None, 5, "9b6ee6b8-3d86-4b5b-a1a5-e5f5a6f5a5a"):
        assert a.uuid(bad)
    assert a.uuid_or_none(None) is None
    assert a.uuid_list(["9b6ee6b8-3d86-4b5b-a1a5-e5f5a6f5a5a5"] * 2)


def test_cidr_and_ip() -> None:
    assert a.subnet_cidr("10.0.0.0/24") is None
    assert a.subnet_cidr("2001:db8::/64") is None
    for bad in ("10.0.0.1/24", "10.0.0.0/33", "10.0.0.0", "x/24", None, "300.0.0.0/8"):
        assert a.subnet_cidr(bad), bad
    assert a.ip_address("10.0.0.1") is None and a.ip_address("2001:db8::1") is None
    for bad in ("10.0.0", "10.0.0.256", "x", 5, "010.0.0.1"):
        assert a.ip_address(bad), bad
    assert a.ip_or_cidr("10.0.0.1/24") is None and a.ip_or_cidr("10.0.0.1") is None
    assert a.ip_or_cidr("10.0.0.0/40")


def test_mac() -> None:
    assert a.mac_address("fa:16:3e:00:00:01") is None
    assert a.mac_address("FA-16-3E-00-00-01") is None
    for bad in ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "fa:16:3e:00:00", "zz:16:3e:00:00:01",
                5, None):
        assert a.mac_address(bad), bad


def test_structures() -> None:
    check = a.dict_with({"start": a.ip_address, "end": a.ip_address},
                        required=("start", "end"))
    assert check({"start": "10.0.0.1", "end": "10.0.0.2"}) is None
    assert check({"start": "10.0.0.1"})
    assert check({"start": "10.0.0.1", "end": "10.0.0.2", "x": 1})
    assert check([]) and a.list_of(check)("x")
    assert a.unique_list_of(a.ip_address)(["1.1.1.1", "1.1.1.1"])
    assert a.int_range(0, 10)(True) and a.int_range(0, 10)(11) and a.int_range(0, 10)(3) is None
    with pytest.raises(exception.InvalidInput) as err:
        a.check("cidr", "x", a.subnet_cidr)
    assert "Invalid input for cidr" in err.value.message
