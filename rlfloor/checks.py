"""Argument checks shared by the whole project (the library, the harness, the agents and the envs): one line,
naming the value and what is allowed.

Pure Python (standard library only), so that ``envs`` can use it without torch or SB3
(``tests/test_layering.py`` checks both). Every public constructor of rlfloor and envs validates
its arguments with these functions before it does any work, so that a bad setting fails at once
with a message such as::

    ValueError: min_prob=0.6 is outside the allowed range [0, 0.5)

Booleans are refused where a number is expected (``True`` is an ``int`` in Python, and
``coef=True`` is always a mistake), and so are strings: ``LinearSchedule("0.1", 0)`` fails
here rather than deep inside a computation.
"""

from __future__ import annotations

import importlib
import math
import numbers
from collections.abc import Collection
from types import ModuleType
from typing import Any

INSTALL_HINT = "pip install 'rlfloor[{extra}]'"
"""How to install an optional extra, in every message that asks for one (``pip install -e '.[{extra}]'``
in a clone)."""


def _number(x: float) -> str:
    """``x`` short (``1e+06``, ``0.5``) unless that rounds it (``0.09999999999999998`` stays exact)."""
    if isinstance(x, int):
        return str(x)
    short = f"{x:g}"
    return short if float(short) == x else repr(float(x))


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    left = "(" if low_open or low is None else "["
    right = ")" if high_open or high is None else "]"
    low_text = "-inf" if low is None else _number(low)
    high_text = "inf" if high is None else _number(high)
    return f"{left}{low_text}, {high_text}{right}"


def check_number(
    name: str,
    value: object,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float if it is a finite real number in the interval, else raise.

    :param name: the argument's name, used in the message.
    :param value: what the caller passed.
    :param low: lower bound (``None``: unbounded).
    :param high: upper bound (``None``: unbounded).
    :param low_open: exclude ``low`` itself.
    :param high_open: exclude ``high`` itself.
    :raises ValueError: ``"{name}={value!r} is outside the allowed range [low, high]"`` (or
        ``"... must be a number"`` for a non-number).
    """
    interval = _interval(low, high, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name}={value!r} must be a number in {interval}")
    x = float(value)
    too_low = low is not None and (x <= low if low_open else x < low)
    too_high = high is not None and (x >= high if high_open else x > high)
    if not math.isfinite(x) or too_low or too_high:
        raise ValueError(f"{name}={value!r} is outside the allowed range {interval}")
    return x


def check_int(name: str, value: object, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer in ``[low, high]``, else raise ``ValueError``."""
    interval = _interval(low, high, False, False)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}={value!r} must be an integer in {interval}")
    x = int(value)
    if (low is not None and x < low) or (high is not None and x > high):
        raise ValueError(f"{name}={value!r} is outside the allowed range {interval}")
    return x


def check_choice(name: str, value: Any, allowed: Collection[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``, else raise ``ValueError`` listing them."""
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(repr(a) for a in allowed)}")
    return value


def import_optional(module: str, extra: str, needed_by: str) -> ModuleType:
    """Import an optional package, or raise ``ModuleNotFoundError`` in one line with the install command.

    :param module: the module to import (``"minigrid"``, ``"ray"``).
    :param extra: the ``pyproject.toml`` extra that installs it.
    :param needed_by: what needs it, for the message (``"suite entry 'minigrid-doorkey'"``).
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        hint = INSTALL_HINT.format(extra=extra)
        raise ModuleNotFoundError(
            f"{needed_by} needs the optional package {module!r} ({error}); install it with {hint}", name=module
        ) from error


__all__ = ["INSTALL_HINT", "check_choice", "check_int", "check_number", "import_optional"]
