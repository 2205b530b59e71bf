"""Write the config as TOML (the stdlib only reads it): commented defaults or effective values."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from hosts.config import TradingConfig

HEADER = """\
# tradingcore.toml: the whole system's options (`tradingcore config init` wrote this file).
# Every key is shown with its default; delete what you do not change. Command-line flags
# override this file. Check it with `tradingcore config check --config FILE`.
"""


def commented_default(config: TradingConfig) -> str:
    """Return the file `config init` writes: every section, key, meaning and default."""
    return HEADER + "".join(_section_lines(config, commented=True))


def effective_toml(config: TradingConfig) -> str:
    """Return the effective config, defaults included, as a TOML file that loads back."""
    return "".join(_section_lines(config, commented=False))


def _section_lines(config: TradingConfig, *, commented: bool) -> Iterator[str]:
    for name, field in TradingConfig.model_fields.items():
        value = getattr(config, name)
        yield "\n"
        if isinstance(value, BaseModel):
            if commented:
                yield f"# {_first_line(type(value).__doc__)}\n"
            yield f"[{name}]\n"
            yield from _keys(value, commented=commented)
        else:
            if commented:
                yield f"# {field.description}\n"
            yield f"[{name}]\n"
            for key, item in dict(value).items():
                yield f"{_key(key)} = {toml_value(item)}\n"


def _keys(section: BaseModel, *, commented: bool) -> Iterator[str]:
    for name, field in type(section).model_fields.items():
        value = getattr(section, name)
        if commented and field.description:
            yield f"# {field.description}\n"
        if value is None:
            yield f"# {name} = (not set)\n"
        else:
            yield f"{name} = {toml_value(value)}\n"


def toml_value(value: Any) -> str:
    """Format one value as TOML (strings, numbers, booleans, dates, paths, lists, tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else json.dumps(str(value))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str | Path):
        return json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        items = ", ".join(f"{_key(key)} = {toml_value(item)}" for key, item in value.items())
        return "{" + items + "}"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as TOML")


def _key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if text else ""


def markdown_reference() -> str:
    """Return docs/config.md's key tables: every section, key, default and meaning."""
    lines = []
    for name, field in TradingConfig.model_fields.items():
        model = field.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            lines += ["", f"### [{name}]", "", _first_line(model.__doc__), ""]
            lines += ["| key | default | meaning |", "| --- | --- | --- |"]
            defaults = model()
            for key, item in model.model_fields.items():
                value = getattr(defaults, key)
                shown = "(not set)" if value is None else f"`{toml_value(value)}`"
                lines.append(f"| `{key}` | {shown} | {item.description} |")
        else:
            lines += ["", f"### [{name}]", "", f"{field.description} (a free table).", ""]
    return "\n".join(lines).lstrip("\n") + "\n"
