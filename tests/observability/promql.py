"""The metric names a PromQL expression reads (enough of PromQL for our dashboards and rules)."""

from __future__ import annotations

import re
from typing import Final

KEYWORDS: Final = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
     "offset", "bool", "inf", "nan"}
)  # fmt: skip
STRING: Final = re.compile(r'"(?:[^"\\]|\\.)*"')
MATCHERS: Final = re.compile(r"\{[^}]*\}")
RANGE: Final = re.compile(r"\[[^\]]*\]")
GROUPING: Final = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
VARIABLE: Final = re.compile(r"\$\{?\w+\}?")
NAME: Final = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expression: str) -> set[str]:
    """Return the metric names an expression selects (not functions, keywords or labels)."""
    text = STRING.sub('""', expression)
    for pattern in (MATCHERS, RANGE, GROUPING, VARIABLE):
        text = pattern.sub(" ", text)
    names = set()
    for match in NAME.finditer(text):
        before = text[match.start() - 1] if match.start() else " "
        if before.isdigit() or before == ".":  # the exponent of a number such as 1e-9
            continue
        if text[match.end() :].lstrip().startswith("("):  # a function call
            continue
        if match.group().lower() not in KEYWORDS:
            names.add(match.group())
    return names
