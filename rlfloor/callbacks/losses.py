"""Loss terms: the magnitude of each term of the last update's loss, as it entered the loss.

SB3 documents the keys its algorithms log ("Explanation of logger output",
https://stable-baselines3.readthedocs.io/en/master/common/logger.html): ``train/policy_gradient_loss``
(PPO, MaskablePPO) or ``train/policy_loss`` (A2C), ``train/value_loss`` and ``train/entropy_loss``,
recorded in ``train()`` and readable through the logger's public ``name_to_value`` until the next
dump. This callback reads them there, before the next rollout. If SB3 ever stops logging them, the
callback warns once naming the missing keys (and ``tests/rlfloor/callbacks/test_losses.py`` fails).
"""

from __future__ import annotations

import warnings
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback

#: SB3's documented logger keys for each loss term, in order of preference.
LOSS_KEYS: dict[str, tuple[str, ...]] = {
    "policy": ("train/policy_gradient_loss", "train/policy_loss"),
    "value": ("train/value_loss",),
    "entropy": ("train/entropy_loss",),
}

_TERM_KEYS = {name: f"loss/{name}" for name in (*LOSS_KEYS, "logit_penalty")}
_SHARE_KEYS = {name: f"loss/{name}_share" for name in _TERM_KEYS}


def loss_terms(
    recorded: dict[str, Any], vf_coef: float, ent_coef: float, logit_penalty: float | None
) -> dict[str, float]:
    """The weighted loss terms from SB3's recorded values (a pure function of them).

    :param recorded: the logger's ``name_to_value``.
    :param vf_coef: the value-loss weight.
    :param ent_coef: the entropy-loss weight.
    :param logit_penalty: the weighted logit-range penalty, when the policy has one.
    :return: ``{"policy", "value", "entropy", "logit_penalty"}`` (those available).
    """
    terms: dict[str, float] = {}
    for name, keys in LOSS_KEYS.items():
        for key in keys:
            if key in recorded:
                terms[name] = float(recorded[key])
                break
    if "value" in terms:
        terms["value"] *= vf_coef
    if "entropy" in terms:
        terms["entropy"] *= ent_coef
    if logit_penalty is not None:
        terms["logit_penalty"] = float(logit_penalty)
    return terms


class LossTermsCallback(BaseCallback):
    """Log ``loss/{term}`` and ``loss/{term}_share`` (``|term| / sum |terms|``) after every update.

    Terms: ``policy``, ``value`` (times ``vf_coef``), ``entropy`` (times ``ent_coef``) and
    ``logit_penalty`` (policies with a logit-range penalty). Values of the updates of one logging
    interval are averaged.
    """

    def __init__(self, verbose: int = 0):
        super().__init__(verbose)
        self._rollouts = 0
        self._warned = False

    def _on_training_start(self) -> None:
        self._rollouts = 0

    def _on_step(self) -> bool:
        return True

    def _on_rollout_start(self) -> None:
        """Every rollout after a call's first follows an update: read what ``train()`` recorded."""
        self._rollouts += 1
        if self._rollouts == 1:
            return
        model: Any = self.model
        recorded = self.logger.name_to_value
        coef = getattr(model, "ent_coef", 0.0)
        pop_penalty = getattr(model.policy, "pop_logit_penalty", None)
        terms = loss_terms(
            recorded,
            float(getattr(model, "vf_coef", 1.0)),
            float(coef) if isinstance(coef, int | float) else 0.0,
            pop_penalty() if pop_penalty is not None else None,
        )
        missing = [name for name in LOSS_KEYS if name not in terms] if len(terms) < len(LOSS_KEYS) else []
        if missing and not self._warned:
            self._warned = True
            wanted = ", ".join(" or ".join(LOSS_KEYS[name]) for name in missing)
            warnings.warn(
                f"{type(model).__name__} logged none of {wanted} in its last update: loss/{missing[0]} "
                "is not logged (did Stable-Baselines3 rename its logger keys?)",
                stacklevel=2,
            )
        total = sum(abs(v) for v in terms.values())
        logger = self.logger
        for name, value in terms.items():
            logger.record_mean(_TERM_KEYS[name], value)
            if total > 0.0:
                logger.record_mean(_SHARE_KEYS[name], abs(value) / total)


__all__ = ["LOSS_KEYS", "LossTermsCallback", "loss_terms"]
