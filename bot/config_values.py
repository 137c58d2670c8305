"""Raw configuration values (TOML tables, ``UNIONBOT_<SECTION>_<KEY>`` strings) made typed.

Each section of :mod:`bot.config` is a dataclass; :func:`build_section` reads its
fields' declared types and converts what the file and the environment give,
so a bad value is reported by its dotted key, in one line, never as a traceback.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from typing import Any

ENV_PREFIX = "UNIONBOT_"


class ConfigError(Exception):
    """A configuration value is missing or malformed; ``str()`` is one line naming the key."""

    def __init__(self, key: str, problem: str):
        super().__init__(f"{key}: {problem}")
        self.key = key


def secret(default: Any = "") -> Any:
    return field(default=default, repr=False, metadata={"secret": True})


def _convert(key: str, value: Any, kind: type) -> Any:
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if isinstance(value, str) and value.strip().lower() in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(key, "must be true or false")
    if kind is dict:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise ConfigError(key, "must be a table (or JSON object)") from None
        if not isinstance(value, dict):
            raise ConfigError(key, "must be a table (or JSON object)")
        return value
    if kind is float:
        if isinstance(value, bool):
            raise ConfigError(key, "must be a number")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(key, "must be a number") from None
    if kind is int:
        if isinstance(value, bool):
            raise ConfigError(key, "must be a whole number")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(key, "must be a whole number") from None
    if not isinstance(value, str):
        raise ConfigError(key, "must be a string")
    return value


def build_section(name: str, cls: type, values: Mapping[str, Any], env: Mapping[str, str]):
    known = {f.name: f for f in dataclasses.fields(cls)}
    for key in values:
        if key not in known:
            raise ConfigError(f"{name}.{key}", "unknown key")
    kwargs = {}
    for f in known.values():
        dotted = f"{name}.{f.name}"
        raw = env.get(f"{ENV_PREFIX}{name}_{f.name}".upper(), values.get(f.name))
        if raw is not None:
            kind = {"bool": bool, "int": int, "float": float, "str": str, "dict": dict}[str(f.type)]
            kwargs[f.name] = _convert(dotted, raw, kind)
    section = cls(**kwargs)
    if hasattr(section, "validate"):
        section.validate()
    return section


def merge(base: dict, extra: Mapping) -> dict:
    merged = {k: dict(v) for k, v in base.items()}
    for section, values in extra.items():
        if not isinstance(values, Mapping):
            raise ConfigError(section, "must be a [section] table")
        merged.setdefault(section, {}).update(values)
    return merged


def read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError("--config", f"file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("--config", f"{path} is not valid TOML ({exc})") from None
