"""common.policy.flatten: nested policy targets as dotted keys."""
from __future__ import annotations

from common import policy


def test_nested_keys_become_dotted() -> None:
    target = {"target": {"user": {"id": "u1", "domain_id": "d1"}}, "project_id": "p1"}
    assert policy.flatten(target) == {"target.user.id": "u1", "target.user.domain_id": "d1",
                                      "project_id": "p1"}


def test_none_values_are_dropped() -> None:
    target = {"target": {"token": {"user_id": None}, "domain": {"id": "d"}},
              "target.domain_id": None, "project_id": None}
    assert policy.flatten(target) == {"target.domain.id": "d"}


def test_falsy_but_present_values_are_kept() -> None:
    assert policy.flatten({"a": "", "b": 0, "c": False, "d": []}) == {
        "a": "", "b": 0, "c": False, "d": []}


def test_already_dotted_keys_and_prefix() -> None:
    assert policy.flatten({"target.domain_id": "d", "x": {"y": 1}}, prefix="p.") == {
        "p.target.domain_id": "d", "p.x.y": 1}


def test_empty_nested_objects_vanish() -> None:
    assert policy.flatten({"target": {"user": {}}}) == {}
    assert policy.flatten({}) == {}


def test_input_is_not_modified() -> None:
    target = {"target": {"user": {"id": "u", "gone": None}}}
    policy.flatten(target)
    assert target == {"target": {"user": {"id": "u", "gone": None}}}
