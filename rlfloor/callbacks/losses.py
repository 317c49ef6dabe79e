"""Loss terms: the magnitude of each term of the last update's loss, as it entered the loss.

SB3 documents the keys its algorithms log ("Explanation of logger output",
https://stable-baselines3.readthedocs.io/en/master/common/logger.html): ``train/policy_gradient_loss``
(PPO, MaskablePPO) or ``train/policy_loss`` (A2C), ``train/value_loss`` and ``train/entropy_loss``,
recorded in ``train()`` and readable through the logger's public ``name_to_value`` until the next
dump. This callback reads them there, before the next rollout. If SB3 ever stops logging them, the
callback warns once naming the missing keys (and ``tests/rlfloor/callbacks/test_losses.py`` fails).

The terms of each update are kept in the callback and handed to the logger once, before the dump
that follows (``learn()``'s ``log_interval`` tells when), as the mean over the interval's updates:
the value ``record_mean`` per update would give, without touching the logger on A2C's 99 rollouts of
100 that no dump follows. When the dump schedule is unknown, each update is recorded at once.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import Logger

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


def record_means(logger: Logger, values: dict[str, list[float]]) -> None:
    """Record each key's values as that many ``logger.record_mean`` calls would (merged with any mean already there)."""
    name_to_value, name_to_count = logger.name_to_value, logger.name_to_count
    for key, items in values.items():
        if not items:
            continue
        count = name_to_count.get(key, 0)
        old = float(name_to_value[key]) * count if count else 0.0
        name_to_value[key] = (old + sum(items)) / (count + len(items))
        name_to_count[key] = count + len(items)
        logger.name_to_excluded[key] = logger.to_tuple(None)


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
        self._log_interval: int | None = None
        self._pop_penalty: Any = None
        self._pending: defaultdict[str, list[float]] = defaultdict(list)  # key -> this interval's values

    def _on_training_start(self) -> None:
        self._rollouts = 0
        log_interval = self.locals.get("log_interval")  # learn()'s: which rollouts a dump follows
        self._log_interval = log_interval if isinstance(log_interval, int) and log_interval > 0 else None
        self._pop_penalty = getattr(self.model.policy, "pop_logit_penalty", None)  # looked up once per learn()
        self._pending.clear()

    def _on_step(self) -> bool:
        return True

    def _on_rollout_start(self) -> None:
        """Every rollout after a call's first follows an update: read what ``train()`` recorded."""
        self._rollouts += 1
        if self._rollouts == 1:
            return
        model: Any = self.model
        coef = getattr(model, "ent_coef", 0.0)
        pop_penalty = self._pop_penalty
        terms = loss_terms(
            self.logger.name_to_value,
            float(getattr(model, "vf_coef", 1.0)),
            float(coef) if isinstance(coef, int | float) else 0.0,
            pop_penalty() if pop_penalty is not None else None,
        )
        if not self._warned:
            missing = [name for name in LOSS_KEYS if name not in terms]
            if missing:
                self._warned = True
                wanted = ", ".join(" or ".join(LOSS_KEYS[name]) for name in missing)
                warnings.warn(
                    f"{type(model).__name__} logged none of {wanted} in its last update: loss/{missing[0]} "
                    "is not logged (did Stable-Baselines3 rename its logger keys?)",
                    stacklevel=2,
                )
        total = sum(abs(v) for v in terms.values())
        pending = self._pending
        for name, value in terms.items():
            pending[_TERM_KEYS[name]].append(value)
            if total > 0.0:
                pending[_SHARE_KEYS[name]].append(abs(value) / total)
        if self._log_interval is None or self._rollouts % self._log_interval == 0:  # a dump follows this rollout
            self._flush()

    def _on_training_end(self) -> None:
        self._flush()  # a later learn() call (or a dump by the user) still sees the interval's updates

    def _flush(self) -> None:
        record_means(self.logger, self._pending)
        self._pending.clear()


__all__ = ["LOSS_KEYS", "LossTermsCallback", "loss_terms", "record_means"]
