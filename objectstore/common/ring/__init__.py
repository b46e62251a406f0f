"""Rings: where the replicas of accounts, containers and objects live.

``Ring`` is the runtime (read-only) side every process uses; ``RingBuilder`` the
offline side behind ``stratus-manage objectstore ring``.
"""
from objectstore.common.ring.builder import (RingBuilder, RingBuilderError,
                                             RingValidationError, parse_add_value,
                                             parse_search_value)
from objectstore.common.ring.ring import DEV_KEYS, Ring, RingLoadError, ring_path

__all__ = ["DEV_KEYS", "Ring", "RingBuilder", "RingBuilderError", "RingLoadError",
           "RingValidationError", "parse_add_value", "parse_search_value", "ring_path"]
