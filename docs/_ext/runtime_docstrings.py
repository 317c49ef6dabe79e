"""Griffe extension for the docs build: read a class's docstring at run time when the source sets it in code.

rlfloor's policy classes build their docstrings from the one description of the floor settings
(``__doc__ = "..." + FLOOR_KWARGS_DOC``), which static analysis cannot read. For a class of the documented
packages with no static docstring, this imports the class and uses ``inspect.getdoc``. Used by mkdocs.yml only.
"""

from __future__ import annotations

import inspect
from typing import Any

import griffe

PACKAGES = ("rlfloor", "envs", "agents")


class RuntimeDocstrings(griffe.Extension):
    """Fill in the docstrings that the source assigns to ``__doc__`` instead of writing them literally."""

    def on_class(self, *, cls: griffe.Class, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        """Import a documented class without a static docstring and take its run-time one."""
        if cls.docstring is not None or not cls.path.startswith(PACKAGES):
            return
        try:
            obj = griffe.dynamic_import(cls.path)
        except ImportError:  # an optional extra (sb3-contrib) is missing: leave the class as it is
            return
        doc = inspect.getdoc(obj)
        if doc:
            # these docstrings document the floor settings, which the policies take as keywords derived from
            # rlfloor.settings: griffe cannot match them to a static signature or annotation
            options = {**(loader.docstring_options or {}), "warn_unknown_params": False, "warnings": False}
            cls.docstring = griffe.Docstring(doc, parent=cls, parser=loader.docstring_parser, parser_options=options)
