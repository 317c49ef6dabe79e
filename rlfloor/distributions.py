"""Action distributions with a floor, as drop-in subclasses of SB3's distributions.

Categorical floor. For the ``K`` valid actions of a state and logits ``z``::

    p_i = m + (1 - K * m) * softmax(z)_i

so every valid action keeps at least ``m = min_prob``, the probabilities still sum
to one, the most likely action is the same as without the floor, and ``m = 0`` is
SB3's categorical. This is the uniform mixture ``(1 - g) * softmax(z) + g / K`` with
``g = K * m`` (Exp3's ``gamma``, DreamerV3's "unimix"). The computation stays in log space::

    log p_i = logaddexp(log m, log1p(-K * m) + log_softmax(z)_i)
            = log m + softplus(log_softmax(z)_i + log1p(-K * m) - log m)

which keeps probabilities, log-probabilities, the (exact) entropy and the gradients
finite for logits as large as +-1e4 in float32. One function computes it, masked or not:
:func:`floored_logits` (``softplus`` form: two element-wise kernels after ``log_softmax``,
and an ONNX ``Softplus`` when exported). (Normalization goes through ``log_softmax``, which
subtracts the largest logit first; SB3's ``Categorical(logits=z)`` computes ``z - logsumexp(z)``
and loses about 1e-3 nats at ``|z| ~ 1e4``.) With ``m = 0`` there is no floor and the
distribution *is* SB3's ``Categorical(logits=z)``, bit for bit, so a floor switched off (the
adaptive floor at rest, a schedule ending at 0) samples exactly as stock SB3 does.

Bernoulli floor (MultiBinary actions). Each bit is a two-action categorical with logits
``(0, z)``, so its probability of 1 is ``m + (1 - 2m) * sigmoid(z)``, in ``[m, 1 - m]``.

Gaussian floor (Box actions). The standard deviation is ``min_std + exp(log_std)``:
never below ``min_std`` and differentiable everywhere; ``min_std = 0`` is SB3's
``DiagGaussianDistribution``.

The masked counterparts, for sb3-contrib's ``MaskablePPO``, are in
:mod:`rlfloor.contrib.distributions` (sb3-contrib is an optional dependency).
"""

from __future__ import annotations

import math
from typing import TypeVar

import torch as th
from gymnasium import spaces
from stable_baselines3.common.distributions import (
    BernoulliDistribution,
    CategoricalDistribution,
    DiagGaussianDistribution,
    Distribution,
    MultiCategoricalDistribution,
)
from torch.distributions import Bernoulli, Categorical, Normal
from torch.distributions import Distribution as TorchDistribution
from torch.nn.functional import softplus

from rlfloor.checks import check_number

SUPPORTED_ACTION_SPACES = "Discrete, MultiDiscrete, MultiBinary (floored by min_prob) and Box (floored by min_std)"

SelfFlooredCategorical = TypeVar("SelfFlooredCategorical", bound="FlooredCategoricalDistribution")
SelfFlooredMultiCategorical = TypeVar("SelfFlooredMultiCategorical", bound="FlooredMultiCategoricalDistribution")
SelfFlooredBernoulli = TypeVar("SelfFlooredBernoulli", bound="FlooredBernoulliDistribution")
SelfFlooredDiagGaussian = TypeVar("SelfFlooredDiagGaussian", bound="FlooredDiagGaussianDistribution")


def check_min_prob(min_prob: float, n_actions: int) -> float:
    """Validate a probability floor for a categorical over ``n_actions`` actions.

    :param min_prob: the floor, a number in ``[0, 1 / n_actions)``.
    :param n_actions: number of actions the floor is shared by (the largest sub-space
        for MultiDiscrete, 2 for MultiBinary).
    :return: ``min_prob`` as a float.
    :raises ValueError: naming the value and the allowed range.
    """
    try:
        return check_number("min_prob", min_prob, 0.0, 1.0 / n_actions, high_open=True)
    except ValueError as error:
        raise ValueError(
            f"{error} = [0, 1/{n_actions}) for {n_actions} actions: "
            "min_prob * n_actions must stay below 1 so the policy can still prefer an action"
        ) from None


def check_min_std(min_std: float) -> float:
    """Validate a standard-deviation floor for Gaussian actions (finite and ``>= 0``)."""
    return check_number("min_std", min_std, 0.0)


def floored_logits(logits: th.Tensor, min_prob: float, mask: th.Tensor | None = None) -> th.Tensor:
    """Logits of the floored softmax: ``log p - log m`` (``log_softmax(z)`` when ``m = 0``).

    The one implementation of the floor, masked or not (:func:`floored_log_probs` adds ``log m``;
    the masked distributions hand this tensor to torch's ``Categorical``, which normalizes it).
    Everything is element-wise after ``log_softmax`` (``softplus`` for ``logaddexp``), so it
    exports to ONNX as ``LogSoftmax`` + ``Softplus``.

    :param logits: unnormalized logits, shape ``(..., K)``.
    :param min_prob: the floor ``m``; must satisfy ``m * K_valid < 1`` (see :func:`check_min_prob`).
    :param mask: optional boolean tensor broadcastable to ``logits``; ``False`` marks an invalid
        action, whose logit is ``-inf`` (probability exactly 0). Every row needs at least one
        valid action.
    :return: ``softplus(log_softmax(z) + log1p(-K_valid m) - log m)``, ``-inf`` where masked.
    """
    if mask is not None:
        logits = logits.masked_fill(~mask, -math.inf)
    log_soft = th.log_softmax(logits, dim=-1)
    if min_prob == 0.0:
        return log_soft
    log_m = math.log(min_prob)
    if mask is None:  # a Python float: no tensor is made on the hot path
        shift: th.Tensor | float = math.log1p(-logits.shape[-1] * min_prob) - log_m
    else:
        n_valid = mask.sum(dim=-1, keepdim=True).to(logits.dtype)
        shift = th.log1p(-n_valid * min_prob) - log_m
    out = softplus(log_soft + shift)
    if mask is not None:
        out = out.masked_fill(~mask, -math.inf)
    return out


def floored_log_probs(logits: th.Tensor, min_prob: float, mask: th.Tensor | None = None) -> th.Tensor:
    """Log-probabilities of the floored softmax over the last dimension.

    :param logits: unnormalized logits, shape ``(..., K)``.
    :param min_prob: the floor ``m``; must satisfy ``m * K_valid < 1`` (see :func:`check_min_prob`).
    :param mask: optional boolean tensor broadcastable to ``logits`` (``False`` = invalid action,
        log-probability ``-inf``).
    :return: ``log p`` with ``p_i = m + (1 - K_valid * m) * softmax(z over valid)_i``.
    """
    out = floored_logits(logits, min_prob, mask)
    return out if min_prob == 0.0 else out + math.log(min_prob)


def min_entropy_with_floor(min_prob: float, n_actions: int) -> float:
    """The lowest entropy (nats) any distribution with every ``p_i >= min_prob`` can have.

    It is reached with ``min_prob`` on ``K - 1`` actions and the rest on one action.
    """
    if min_prob <= 0.0 or n_actions <= 1:
        return 0.0
    top = 1.0 - (n_actions - 1) * min_prob
    return -(n_actions - 1) * min_prob * math.log(min_prob) - top * math.log(top)


#: Below this floor the floor-referenced formula loses float32 digits (relative error of ``p`` about
#: ``log(1/m) * 2**-24``), so torch renormalizes the result instead of taking it as normalized.
NORMALIZED_FLOOR_MIN = 1e-6


class NormalizedCategorical(Categorical):
    """torch's ``Categorical`` built from log-probabilities that are already normalized.

    ``Categorical(logits=log_p)`` would subtract ``logsumexp(log_p)`` (which is 0 here) once more;
    skipping it pays for the floor on the training hot path. Every method is torch's.

    :param log_probs: normalized log-probabilities, shape ``(..., K)`` (``-inf`` allowed).
    :param validate_args: as torch's.
    """

    def __init__(self, log_probs: th.Tensor, validate_args: bool | None = None):
        if log_probs.dim() < 1:
            raise ValueError(f"log_probs must be at least one-dimensional, got shape {tuple(log_probs.shape)}")
        # The attributes torch's Categorical.__init__ sets, without its normalization.
        self.logits = log_probs
        self._param = log_probs
        self._num_events = log_probs.size(-1)
        TorchDistribution.__init__(self, log_probs.shape[:-1], validate_args=validate_args)


def floored_categorical(logits: th.Tensor, min_prob: float) -> Categorical:
    """The floored categorical over the last dimension of ``logits`` as a torch distribution."""
    if min_prob == 0.0:  # no floor: exactly stock SB3's Categorical(logits=z), bit for bit
        return Categorical(logits=logits)
    if min_prob >= NORMALIZED_FLOOR_MIN:
        return NormalizedCategorical(floored_log_probs(logits, min_prob))
    return Categorical(logits=floored_logits(logits, min_prob))


class MinProbMixin:
    """A ``min_prob`` attribute validated on every assignment against the largest sub-space."""

    _min_prob: float

    def _subspace_sizes(self) -> list[int]:
        raise NotImplementedError

    @property
    def min_prob(self) -> float:
        """The probability floor in force (per sub-space for MultiDiscrete, per bit for MultiBinary)."""
        return self._min_prob

    @min_prob.setter
    def min_prob(self, value: float) -> None:
        self._min_prob = check_min_prob(value, max(self._subspace_sizes()))


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
        self.distribution = floored_categorical(action_logits, self._min_prob)
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
        self.distribution = [floored_categorical(z, self._min_prob) for z in splits]
        return self


class FlooredBernoulliDistribution(MinProbMixin, BernoulliDistribution):
    """Bernoulli per bit for ``MultiBinary`` actions, each bit's probability in ``[m, 1 - m]``.

    Bit ``j`` is the two-action floored categorical with logits ``(0, z_j)`` (computed by
    :func:`floored_logits`, so in log space), handed to torch's ``Bernoulli`` as the logit
    ``log p_j - log(1 - p_j)``, which the floor bounds by ``+-log((1 - m) / m)``. ``m = 0`` is
    SB3's ``BernoulliDistribution``.

    :param action_dims: number of bits.
    :param min_prob: floor in ``[0, 1/2)`` for each outcome of each bit.
    """

    def __init__(self, action_dims: int, min_prob: float = 0.0):
        super().__init__(action_dims)
        self.min_prob = min_prob

    def _subspace_sizes(self) -> list[int]:
        return [2]

    def proba_distribution(self: SelfFlooredBernoulli, action_logits: th.Tensor) -> SelfFlooredBernoulli:
        if self._min_prob == 0.0:
            return super().proba_distribution(action_logits)
        pair = floored_logits(th.stack((th.zeros_like(action_logits), action_logits), dim=-1), self._min_prob)
        self.distribution = Bernoulli(logits=pair[..., 1] - pair[..., 0])
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


def multibinary_size(action_space: spaces.MultiBinary) -> int:
    """Number of bits of a 1-D ``MultiBinary`` space.

    :raises ValueError: for a multi-dimensional one (SB3's Bernoulli head is flat).
    """
    if isinstance(action_space.n, int):
        return action_space.n
    shape = tuple(int(n) for n in action_space.n)
    if len(shape) != 1:
        raise ValueError(f"only 1-D MultiBinary action spaces are supported, got shape {shape}")
    return shape[0]


def make_floored_proba_distribution(action_space: spaces.Space, floor: float) -> Distribution:
    """The floored distribution for an action space.

    :param action_space: ``Discrete``, ``MultiDiscrete``, ``MultiBinary`` or ``Box``.
    :param floor: ``min_prob`` for the discrete and binary spaces, ``min_std`` for ``Box``.
    :raises ValueError: for an unsupported space (naming the supported ones) or a bad floor.
    """
    if isinstance(action_space, spaces.Discrete):
        return FlooredCategoricalDistribution(int(action_space.n), min_prob=floor)
    if isinstance(action_space, spaces.MultiDiscrete):
        return FlooredMultiCategoricalDistribution(action_space_sizes(action_space), min_prob=floor)
    if isinstance(action_space, spaces.MultiBinary):
        return FlooredBernoulliDistribution(multibinary_size(action_space), min_prob=floor)
    if isinstance(action_space, spaces.Box):
        return FlooredDiagGaussianDistribution(int(math.prod(action_space.shape)), min_std=floor)
    raise ValueError(f"unsupported action space {action_space}: rlfloor supports {SUPPORTED_ACTION_SPACES}")
