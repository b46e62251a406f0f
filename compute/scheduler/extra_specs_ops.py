"""Matching a host value against a flavor extra spec requirement.

A requirement is either a plain string (matched for equality) or starts with an
operator, with Nova's meanings:

======================  ==================================================
``= 1024``              numeric, the host value is at least 1024
``== 4`` / ``!= 4``     numeric equality / inequality
``>= 4`` / ``<= 4``     numeric comparisons
``s== x`` ``s!= x``     string equality / inequality
``s< x`` ``s<= x``      string ordering (also ``s>`` and ``s>=``)
``<in> avx``            the host value contains ``avx``
``<all-in> a b``        the host value contains every word
``<or> a <or> b``       the host value is one of the words
======================  ==================================================
"""
from __future__ import annotations

import operator
from typing import Any, Callable

_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "=": operator.ge, "==": operator.eq, "!=": operator.ne,
    ">=": operator.ge, "<=": operator.le,
}
_STRING: dict[str, Callable[[str, str], bool]] = {
    "s==": operator.eq, "s!=": operator.ne, "s<": operator.lt, "s<=": operator.le,
    "s>": operator.gt, "s>=": operator.ge,
}


def _contains(value: Any, word: str) -> bool:
    if isinstance(value, (list, tuple, set, frozenset)):
        return word in value
    return word in str(value)


def match(value: Any, requirement: str) -> bool:
    """True when the host's ``value`` satisfies the extra spec ``requirement``."""
    words = str(requirement).split()
    if not words:
        return str(value) == str(requirement)
    op, args = words[0], words[1:]
    if op in _NUMERIC:
        if len(args) != 1:
            return False
        try:
            return _NUMERIC[op](float(value), float(args[0]))
        except (TypeError, ValueError):
            return False
    if op in _STRING:
        return len(args) == 1 and _STRING[op](str(value), args[0])
    if op == "<in>":
        return len(args) == 1 and _contains(value, args[0])
    if op == "<all-in>":
        return bool(args) and all(_contains(value, word) for word in args)
    if op == "<or>":
        options = [word for word in args if word != "<or>"]
        return str(value) in options
    return str(value) == str(requirement)
