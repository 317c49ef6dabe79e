"""The eight policy settings of rlfloor's floored policies, declared once.

:class:`FloorSettings` is the one declaration: each field's name, type, default and one-line
doc. Everything else is derived from it: :data:`FLOOR_KWARGS` (the names), :data:`FLOOR_KWARGS_DOC`
(the ``:param:`` lines of every floored policy class), the keyword parameters of
:class:`rlfloor.policy_base.FlooredPolicyMixin` (:func:`floor_parameters`), what a floored policy saves
with the model, and the logit transforms' options (:class:`rlfloor.logits.LogitTransform` reads the
last five fields). A ninth setting is one more field here.

The checks here are the logit options'; the floors (``min_prob`` in ``[0, 1/K)``, ``min_std``,
``uniform_mix``, numbers or schedules) are checked by the policy, which knows the action space.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rlfloor.checks import check_number
from rlfloor.schedules import ScheduleLike


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True)
class FloorSettings:
    """The floor and logit-transform settings of a floored policy (see :mod:`rlfloor.logits`)."""

    min_prob: ScheduleLike = field(
        default=0.0,
        metadata=_doc(
            "probability floor for Discrete/MultiDiscrete/MultiBinary actions, in ``[0, 1/K)`` (``K`` the "
            "largest sub-space, 2 for MultiBinary), or a schedule of ``progress_remaining``."
        ),
    )
    min_std: ScheduleLike = field(
        default=0.0, metadata=_doc("standard-deviation floor for Box actions, ``>= 0``, or a schedule.")
    )
    temperature: float = field(default=1.0, metadata=_doc("softmax temperature (``> 0``)."))
    logit_clip: float | None = field(
        default=None, metadata=_doc("straight-through clipping bound for the logits (``> 0``), or ``None``.")
    )
    center_logits: bool = field(default=False, metadata=_doc("subtract each sub-space's mean logit."))
    logit_penalty: float = field(
        default=0.0, metadata=_doc("weight of the logit-range penalty added to the loss (``>= 0``; 0: off).")
    )
    logit_penalty_bound: float = field(default=5.0, metadata=_doc("logits beyond ``+-bound`` are penalized."))
    uniform_mix: ScheduleLike | None = field(
        default=None,
        metadata=_doc(
            "the floor as a mixing weight ``g`` in ``[0, 1)`` (Exp3's gamma, DreamerV3's unimix): "
            "``min_prob = g / K``. Mutually exclusive with ``min_prob``; may be a schedule."
        ),
    )

    def __post_init__(self) -> None:
        check_number("temperature", self.temperature, 0.0, low_open=True)
        if self.logit_clip is not None:
            check_number("logit_clip", self.logit_clip, 0.0, low_open=True)
        if not isinstance(self.center_logits, bool):
            raise ValueError(f"center_logits must be True or False, got {self.center_logits!r}")
        check_number("logit_penalty", self.logit_penalty, 0.0)
        check_number("logit_penalty_bound", self.logit_penalty_bound, 0.0, low_open=True)

    @property
    def logits_as_is(self) -> bool:
        """True when no logit transform is active (the policy head's logits are used as they are)."""
        return (
            self.temperature == 1.0 and self.logit_clip is None and not self.center_logits and self.logit_penalty == 0.0
        )

    def logit_options(self) -> dict[str, Any]:
        """The active logit-transform settings by name (for messages)."""
        defaults = FloorSettings()
        names = ("temperature", "logit_clip", "center_logits", "logit_penalty", "logit_penalty_bound")
        return {n: getattr(self, n) for n in names if getattr(self, n) != getattr(defaults, n)}

    def as_kwargs(self) -> dict[str, Any]:
        """The settings as policy keyword arguments (schedules kept as they are, not copied)."""
        return {name: getattr(self, name) for name in FLOOR_KWARGS}

    @classmethod
    def pop_from(cls, kwargs: dict[str, Any]) -> FloorSettings:
        """Take the floor settings out of a policy's keyword arguments (the rest go to SB3)."""
        return cls(**{name: kwargs.pop(name) for name in FLOOR_KWARGS if name in kwargs})


FLOOR_KWARGS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(FloorSettings))
"""The policy keyword arguments that only rlfloor's policies take."""

FLOOR_KWARGS_DOC: str = (
    "\n"
    + "".join(f"    :param {f.name}: {f.metadata['doc']}\n" for f in dataclasses.fields(FloorSettings))
    + "    :param kwargs: every other argument of the SB3 parent policy.\n"
)
"""The ``:param:`` lines of the floored policy classes' docstrings."""


def floor_parameters() -> list[inspect.Parameter]:
    """The settings as keyword parameters (name, default, resolved type), for the mixin's signature."""
    hints: Mapping[str, Any] = typing.get_type_hints(FloorSettings)
    return [
        inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=hints[f.name])
        for f in dataclasses.fields(FloorSettings)
    ]


__all__ = ["FLOOR_KWARGS", "FLOOR_KWARGS_DOC", "FloorSettings", "floor_parameters"]
