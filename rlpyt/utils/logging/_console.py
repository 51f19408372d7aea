"""Console formatting helpers for the logger: compact values, key/value tables, ANSI colours."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

_COLOR_CODES = {
    "gray": 30,
    "red": 31,
    "green": 32,
    "yellow": 33,
    "blue": 34,
    "magenta": 35,
    "cyan": 36,
    "white": 37,
    "crimson": 38,
}


def colorize(text: str, color: str, bold: bool = False, highlight: bool = False) -> str:
    """Wrap ``text`` in ANSI escape codes.

    Args:
        text: text to colour.
        color: one of gray, red, green, yellow, blue, magenta, cyan, white, crimson.
        bold: also use bold face.
        highlight: colour the background instead of the foreground.

    Returns:
        The escaped string.
    """
    if color not in _COLOR_CODES:
        raise ValueError(f"Unknown color {color!r}; expected one of {sorted(_COLOR_CODES)}.")
    code = _COLOR_CODES[color] + (10 if highlight else 0)
    attrs = [str(code)] + (["1"] if bold else [])
    return f"\x1b[{';'.join(attrs)}m{text}\x1b[0m"


def format_value(value: Any) -> str:
    """Format one tabular value compactly: integers exactly, reals with ``%.6g``.

    Args:
        value: a python or numpy scalar, or anything with a ``str``.

    Returns:
        The text shown in the console table.
    """
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        return str(value) if math.isnan(value) or math.isinf(value) else f"{value:.6g}"
    return str(value)


def format_table(rows: Iterable[tuple[str, Any]]) -> str:
    """Render ``(key, value)`` pairs as an aligned two-column table.

    Keys are left-aligned, values right-aligned, framed by dashed rules.

    Args:
        rows: ordered ``(key, value)`` pairs.

    Returns:
        The table as a multi-line string (no trailing newline); empty if there are no rows.
    """
    cells = [(str(key), format_value(value)) for key, value in rows]
    if not cells:
        return ""
    key_width = max(len(key) for key, _ in cells)
    value_width = max(len(value) for _, value in cells)
    rule = "-" * (key_width + value_width + 3)
    lines = [rule]
    lines.extend(f"{key:<{key_width}} | {value:>{value_width}}" for key, value in cells)
    lines.append(rule)
    return "\n".join(lines)
