"""Detect misuse: the rules engine and the eight built-in rules.

Rules are declared in ``builtin.toml`` (title, severity, policy clause,
thresholds) and implemented one family per module, each a ``detect(ctx, rule)``
that works on whole columns and returns :class:`~filterlog.rules.hits.Hits`.
"""

from .engine import DetectReport, detect, detect_events
from .model import RULE_IDS, Rule, get_rule, load_rules

__all__ = ["RULE_IDS", "DetectReport", "Rule", "detect", "detect_events", "get_rule", "load_rules"]
