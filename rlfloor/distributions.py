"""Action distributions with a floor, as drop-in subclasses of SB3's distributions.

Categorical floor. For the ``K`` valid actions of a state and logits ``z``::

    p_i = m + (1 - K * m) * softmax(z)_i

so every valid action keeps at least ``m = min_prob``, the probabilities still sum
to one, the most likely action is the same as without the floor, and ``m = 0`` is
SB3's categorical. The computation stays in log space::

    log p_i = logaddexp(log m, log1p(-K * m) + log_softmax(z)_i)

which keeps probabilities, log-probabilities, the (exact) entropy and the gradients
finite for logits as large as +-1e4 in float32. (Normalization goes through
``log_softmax``, which subtracts the largest logit first; SB3's ``Categorical(logits=z)``
computes ``z - logsumexp(z)`` and loses about 1e-3 nats at ``|z| ~ 1e4``. With
``m = 0`` the two agree to float32 rounding at ordinary logit scales.)

Gaussian floor (Box actions). The standard deviation is ``min_std + exp(log_std)``:
never below ``min_std`` and differentiable everywhere; ``min_std = 0`` is SB3's
``DiagGaussianDistribution``.

The masked counterparts, for sb3-contrib's ``MaskablePPO``, are in
:mod:`rlfloor.maskable` (sb3-contrib is an optional dependency).
"""

from __future__ import annotations

import math
from typing import TypeVar

import torch as th
from gymnasium import spaces
from stable_baselines3.common.distributions import (
    CategoricalDistribution,
    DiagGaussianDistribution,
    Distribution,
    MultiCategoricalDistribution,
)
from torch.distributions import Categorical, Normal

SUPPORTED_ACTION_SPACES = "Discrete, MultiDiscrete (floored by min_prob) and Box (floored by min_std)"

SelfFlooredCategorical = TypeVar("SelfFlooredCategorical", bound="FlooredCategoricalDistribution")
SelfFlooredMultiCategorical = TypeVar("SelfFlooredMultiCategorical", bound="FlooredMultiCategoricalDistribution")
SelfFlooredDiagGaussian = TypeVar("SelfFlooredDiagGaussian", bound="FlooredDiagGaussianDistribution")


def check_min_prob(min_prob: float, n_actions: int) -> float:
    """Validate a probability floor for a categorical over ``n_actions`` actions.

    :param min_prob: the floor, a number in ``[0, 1 / n_actions)``.
    :param n_actions: number of actions the floor is shared by (the largest sub-space
        for MultiDiscrete).
    :return: ``min_prob`` as a float.
    :raises ValueError: naming the value and the allowed range.
    """
    if isinstance(min_prob, bool) or not isinstance(min_prob, int | float):
        raise ValueError(f"min_prob must be a number in [0, 1/{n_actions}), got {min_prob!r}")
    value = float(min_prob)
    if math.isnan(value) or value < 0.0 or value * n_actions >= 1.0:
        raise ValueError(
            f"min_prob={min_prob!r} is outside the allowed range [0, 1/{n_actions}) = "
            f"[0, {1.0 / n_actions:.6g}) for {n_actions} actions: "
            "min_prob * n_actions must stay below 1 so the policy can still prefer an action"
        )
    return value


def check_min_std(min_std: float) -> float:
    """Validate a standard-deviation floor for Gaussian actions (finite and ``>= 0``)."""
    if isinstance(min_std, bool) or not isinstance(min_std, int | float):
        raise ValueError(f"min_std must be a finite number >= 0, got {min_std!r}")
    value = float(min_std)
    if not math.isfinite(value) or value < 0.0:
        raise ValueError(f"min_std={min_std!r} is outside the allowed range [0, inf)")
    return value


def floored_log_probs(logits: th.Tensor, min_prob: float, mask: th.Tensor | None = None) -> th.Tensor:
    """Log-probabilities of the floored softmax over the last dimension.

    :param logits: unnormalized logits, shape ``(..., K)``.
    :param min_prob: the floor ``m``; must satisfy ``m * K_valid < 1`` (see :func:`check_min_prob`).
    :param mask: optional boolean tensor broadcastable to ``logits``; ``False`` marks an invalid
        action, whose log-probability is ``-inf`` (probability exactly 0). Every row needs
        at least one valid action.
    :return: ``log p`` with ``p_i = m + (1 - K_valid * m) * softmax(z over valid)_i``.
    """
    if mask is not None:
        logits = logits.masked_fill(~mask, -math.inf)
    log_soft = th.log_softmax(logits, dim=-1)
    if min_prob == 0.0:
        return log_soft
    log_m = math.log(min_prob)
    if mask is None:
        log_rest: th.Tensor | float = math.log1p(-logits.shape[-1] * min_prob)
    else:
        n_valid = mask.sum(dim=-1, keepdim=True).to(logits.dtype)
        log_rest = th.log1p(-n_valid * min_prob)
    # logaddexp(log m, x) = log m + softplus(x - log m), one fused op and no tensor for log m.
    log_p = th.nn.functional.softplus(log_soft + (log_rest - log_m)) + log_m
    if mask is not None:
        log_p = log_p.masked_fill(~mask, -math.inf)
    return log_p


def min_entropy_with_floor(min_prob: float, n_actions: int) -> float:
    """The lowest entropy (nats) any distribution with every ``p_i >= min_prob`` can have.

    It is reached with ``min_prob`` on ``K - 1`` actions and the rest on one action.
    """
    if min_prob <= 0.0 or n_actions <= 1:
        return 0.0
    top = 1.0 - (n_actions - 1) * min_prob
    return -(n_actions - 1) * min_prob * math.log(min_prob) - top * math.log(top)


class MinProbMixin:
    """A ``min_prob`` attribute validated on every assignment, and the floored logits it implies.

    ``p_i = m + c * softmax(z)_i`` with ``c = 1 - K m`` gives ``log p_i = log c + logaddexp(
    log_softmax(z)_i, log(m / c))``. Torch's ``Categorical`` normalizes its logits itself, so
    :meth:`_floored_logits` hands it only ``logaddexp(log_softmax(z), log(m / c))`` (off by the
    small constant ``log c``): two tensor ops, no more than SB3's own categorical costs.
    """

    _min_prob: float

    def _subspace_sizes(self) -> list[int]:
        raise NotImplementedError

    @property
    def min_prob(self) -> float:
        """The probability floor in force (per sub-space for MultiDiscrete)."""
        return self._min_prob

    @min_prob.setter
    def min_prob(self, value: float) -> None:
        self._min_prob = check_min_prob(value, max(self._subspace_sizes()))
        self._offsets: dict[tuple[th.device, th.dtype], list[th.Tensor]] = {}

    def _floored_logits(self, logits: th.Tensor, subspace: int = 0) -> th.Tensor:
        """Logits whose softmax is the floored distribution of one sub-space (see the class doc)."""
        log_soft = th.log_softmax(logits, dim=-1)
        m = self._min_prob
        if m == 0.0:
            return log_soft
        key = (logits.device, logits.dtype)
        offsets = self._offsets.get(key)
        if offsets is None:  # one small tensor per sub-space, made once per device and dtype
            offsets = [
                th.tensor(math.log(m) - math.log1p(-k * m), device=logits.device, dtype=logits.dtype)
                for k in self._subspace_sizes()
            ]
            self._offsets[key] = offsets
        return th.logaddexp(log_soft, offsets[subspace])


class FlooredCategoricalDistribution(MinProbMixin, CategoricalDistribution):
    """Categorical distribution for ``Discrete`` actions with a probability floor.

    A drop-in replacement for SB3's ``CategoricalDistribution``: same methods, same
    network head (one logit per action), ``proba_distribution`` returns ``self``.

    :param action_dim: number of discrete actions ``K``.
    :param min_prob: probability floor in ``[0, 1/K)``; can be changed later through
        the ``min_prob`` attribute (validated on assignment).
    """

    def __init__(self, action_dim: int, min_prob: float = 0.0):
        super().__init__(action_dim)
        self.min_prob = min_prob

    def _subspace_sizes(self) -> list[int]:
        return [int(self.action_dim)]

    def proba_distribution(self: SelfFlooredCategorical, action_logits: th.Tensor) -> SelfFlooredCategorical:
        self.distribution = Categorical(logits=self._floored_logits(action_logits))
        return self


class FlooredMultiCategoricalDistribution(MinProbMixin, MultiCategoricalDistribution):
    """``MultiDiscrete`` counterpart: an independent floored categorical per sub-space.

    :param action_dims: number of actions in each sub-space.
    :param min_prob: floor applied inside every sub-space; must be below ``1 / max(action_dims)``.
    """

    def __init__(self, action_dims: list[int], min_prob: float = 0.0):
        super().__init__(action_dims)
        self.min_prob = min_prob

    def _subspace_sizes(self) -> list[int]:
        return [int(k) for k in self.action_dims]

    def proba_distribution(self: SelfFlooredMultiCategorical, action_logits: th.Tensor) -> SelfFlooredMultiCategorical:
        splits = th.split(action_logits, list(self.action_dims), dim=1)
        self.distribution = [Categorical(logits=self._floored_logits(z, d)) for d, z in enumerate(splits)]
        return self


class FlooredDiagGaussianDistribution(DiagGaussianDistribution):
    """Diagonal Gaussian for ``Box`` actions whose standard deviation never drops below ``min_std``.

    ``std = min_std + exp(log_std)``: a floor with a gradient everywhere (unlike clamping).

    :param action_dim: dimension of the action space.
    :param min_std: standard-deviation floor, ``>= 0``.
    """

    def __init__(self, action_dim: int, min_std: float = 0.0):
        super().__init__(action_dim)
        self.min_std = min_std

    @property
    def min_std(self) -> float:
        """The standard-deviation floor in force."""
        return self._min_std

    @min_std.setter
    def min_std(self, value: float) -> None:
        self._min_std = check_min_std(value)

    def proba_distribution(
        self: SelfFlooredDiagGaussian, mean_actions: th.Tensor, log_std: th.Tensor
    ) -> SelfFlooredDiagGaussian:
        if self._min_std == 0.0:
            super().proba_distribution(mean_actions, log_std)
        else:
            std = th.ones_like(mean_actions) * (log_std.exp() + self._min_std)
            self.distribution = Normal(mean_actions, std)
        return self


def action_space_sizes(action_space: spaces.Space) -> list[int]:
    """Sizes of the categorical sub-spaces: ``[n]`` for Discrete, ``nvec`` for MultiDiscrete.

    :raises ValueError: for any other space.
    """
    if isinstance(action_space, spaces.Discrete):
        return [int(action_space.n)]
    if isinstance(action_space, spaces.MultiDiscrete):
        if action_space.nvec.ndim != 1:
            raise ValueError(f"only 1-D MultiDiscrete action spaces are supported, got nvec={action_space.nvec}")
        return [int(n) for n in action_space.nvec]
    raise ValueError(f"expected a Discrete or MultiDiscrete action space, got {action_space}")


def make_floored_proba_distribution(action_space: spaces.Space, floor: float) -> Distribution:
    """The floored distribution for an action space.

    :param action_space: ``Discrete``, ``MultiDiscrete`` or ``Box``.
    :param floor: ``min_prob`` for the discrete spaces, ``min_std`` for ``Box``.
    :raises ValueError: for an unsupported space (naming the supported ones) or a bad floor.
    """
    if isinstance(action_space, spaces.Discrete):
        return FlooredCategoricalDistribution(int(action_space.n), min_prob=floor)
    if isinstance(action_space, spaces.MultiDiscrete):
        return FlooredMultiCategoricalDistribution(action_space_sizes(action_space), min_prob=floor)
    if isinstance(action_space, spaces.Box):
        return FlooredDiagGaussianDistribution(int(math.prod(action_space.shape)), min_std=floor)
    raise ValueError(f"unsupported action space {action_space}: rlfloor supports {SUPPORTED_ACTION_SPACES}")
