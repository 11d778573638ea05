"""Rules as data: the built-in declarations, merged with a school's overrides.

A rule's code lives in its own module; what it flags at (thresholds, lists,
severity) lives in ``builtin.toml`` so a school can see and change every number
without reading Python. Overrides are checked against the built-in parameters:
an unknown name or a value of the wrong type is a one-line config error, never a
silently ignored setting.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

from ..config import Config
from ..errors import ConfigError
from ..schema import SEVERITIES

RULE_IDS = (
    "repeated-blocked",
    "circumvention",
    "nonbusiness-bandwidth",
    "live-feed",
    "hacking-tools",
    "inappropriate-content",
    "large-transfer",
    "concerning-search",
)
"""Built-in rule ids, in the order they run and are listed (stable: DESIGN.md)."""


@dataclass(frozen=True)
class Rule:
    """One rule's declaration: who it is, how serious, which policy clause, and its parameters."""

    id: str
    title: str
    severity: str
    policy: str
    description: str
    params: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    overridden: tuple[str, ...] = ()
    """Names the site configuration changed, so ``filterlog rules`` can show them."""

    def __getitem__(self, name: str) -> Any:
        return self.params[name]

    def raised(self, steps: int = 1, base: str | None = None) -> str:
        """The severity ``steps`` above ``base`` (default: the rule's), capped at critical."""
        index = SEVERITIES.index(base or self.severity) + steps
        return SEVERITIES[max(0, min(index, len(SEVERITIES) - 1))]


def _builtin() -> dict[str, Any]:
    text = resources.files("filterlog.rules").joinpath("builtin.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    if isinstance(default, list):
        return isinstance(value, list) and all(_same_kind(default[0], v) for v in value) if default else True
    return isinstance(value, type(default))


def _override(rule: Rule, changes: dict[str, Any]) -> Rule:
    where = f"filterlog.toml [rules.{rule.id}]"
    params = dict(rule.params)
    severity, enabled = rule.severity, rule.enabled
    for name, value in changes.items():
        if name == "severity":
            if value not in SEVERITIES:
                raise ConfigError(f"{where} severity: expected one of {', '.join(SEVERITIES)}, got {value!r}")
            severity = value
        elif name == "enabled":
            if not isinstance(value, bool):
                raise ConfigError(f"{where} enabled: expected true or false, got {value!r}")
            enabled = value
        elif name not in params:
            known = ", ".join(sorted(params))
            raise ConfigError(f"{where}: unknown setting {name!r} (this rule has: severity, enabled, {known})")
        elif not _same_kind(params[name], value):
            raise ConfigError(f"{where} {name}: expected a value like {params[name]!r}, got {value!r}")
        else:
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
                raise ConfigError(f"{where} {name}: must not be negative, got {value!r}")
            params[name] = value
    return replace(rule, params=params, severity=severity, enabled=enabled, overridden=tuple(changes))


def load_rules(config: Config | None = None) -> list[Rule]:
    """The built-in rules with the site's ``[rules.<id>]`` overrides applied, in ``RULE_IDS`` order."""
    data = _builtin()
    rules = []
    for rule_id in RULE_IDS:
        spec = dict(data[rule_id])
        params = spec.pop("params", {})
        rules.append(Rule(id=rule_id, params=params, **spec))
    overrides = config.rules if config is not None else {}
    unknown = sorted(set(overrides) - set(RULE_IDS))
    if unknown:
        raise ConfigError(f"filterlog.toml: unknown rule(s) {unknown} (rules are: {', '.join(RULE_IDS)})")
    return [_override(r, overrides[r.id]) if r.id in overrides else r for r in rules]


def get_rule(rule_id: str, config: Config | None = None) -> Rule:
    """One rule by id, overrides applied."""
    for rule in load_rules(config):
        if rule.id == rule_id:
            return rule
    raise ConfigError(f"unknown rule {rule_id!r} (rules are: {', '.join(RULE_IDS)})")
