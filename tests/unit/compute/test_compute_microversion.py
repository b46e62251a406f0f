"""Microversion negotiation (Nova's rules)."""
from __future__ import annotations

import pytest

from compute import exception
from compute.api import microversion as mv


@pytest.mark.parametrize("headers,expected", [
    ({}, (2, 1)), ({"OpenStack-API-Version": "compute latest"}, mv.MAX_VERSION),
    ({"OpenStack-API-Version": "COMPUTE 2.1"}, (2, 1)),
    ({"X-OpenStack-Nova-API-Version": " 2.1 "}, (2, 1)),
    ({"OpenStack-API-Version": "identity 3.0"}, (2, 1)),
])
def test_negotiate(headers: dict[str, str], expected: tuple[int, int]) -> None:
    assert mv.negotiate(headers) == expected


@pytest.mark.parametrize("value,error", [
    ("2.99", exception.InvalidGlobalAPIVersion), ("1.0", exception.InvalidGlobalAPIVersion),
    ("2", exception.InvalidAPIVersionString), ("2.x", exception.InvalidAPIVersionString),
    ("02.1", exception.InvalidAPIVersionString),
])
def test_rejects(value: str, error: type) -> None:
    with pytest.raises(error):
        mv.negotiate({"OpenStack-API-Version": "compute " + value})


def test_response_headers() -> None:
    assert dict(mv.response_headers((2, 1))) == {
        "OpenStack-API-Version": "compute 2.1", "X-OpenStack-Nova-API-Version": "2.1",
        "Vary": "OpenStack-API-Version, X-OpenStack-Nova-API-Version"}
