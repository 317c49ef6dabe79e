"""Command-line parsing from a dataclass: one field, one option, its doc in ``--help``.

Each field of the config dataclass carries its one-line help in
``field(metadata={"help": ...})``; lists become ``nargs="+"`` options, booleans
``--flag/--no-flag`` pairs, ``X | None`` fields accept the value or the word ``none``.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            return args[0], True
    return annotation, False


def _optional(convert: Any) -> Any:
    def parse(text: str) -> Any:
        return None if text.lower() == "none" else convert(text)

    parse.__name__ = getattr(convert, "__name__", "value")
    return parse


def parse_config(cls: type[T], argv: Sequence[str] | None = None, description: str | None = None) -> T:
    """Parse ``argv`` into an instance of the dataclass ``cls``.

    :param cls: a dataclass whose fields have defaults and ``metadata={"help": ...}``.
    :param argv: arguments (default: ``sys.argv[1:]``).
    :param description: text shown at the top of ``--help``.
    """
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    hints = typing.get_type_hints(cls)
    for item in dataclasses.fields(cls):  # type: ignore[arg-type]
        name = "--" + item.name.replace("_", "-")
        help_text = item.metadata.get("help", "")
        default = item.default if item.default is not dataclasses.MISSING else item.default_factory()  # type: ignore[operator]
        annotation, optional = _unwrap_optional(hints[item.name])
        if annotation is bool:
            parser.add_argument(name, action=argparse.BooleanOptionalAction, default=default, help=help_text)
            continue
        if typing.get_origin(annotation) is list:
            (inner,) = typing.get_args(annotation)
            parser.add_argument(name, nargs="+", type=inner, default=default, help=help_text)
            continue
        convert = _optional(annotation) if optional else annotation
        parser.add_argument(name, type=convert, default=default, help=help_text)
    namespace = parser.parse_args(argv)
    return cls(**vars(namespace))
