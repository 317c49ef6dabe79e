"""The other common answers to "keep a minimum probability", as logit transforms.

Each acts on the logits ``z`` that the policy head produces, before the (optionally
floored) softmax, so that all of them can be combined with the floor and compared on
equal footing. What each one does and does *not* guarantee:

* **Centered logits** (``center_logits=True``): ``z - mean(z)`` per (sub-)space. Softmax
  ignores a shared shift, so this changes neither the distribution nor its gradient;
  it only makes absolute logit bounds (clipping, the range penalty) meaningful, since
  the network can no longer satisfy a bound by shifting every logit together.
* **Temperature** (``temperature=T``): ``softmax(z / T)``. ``T > 1`` flattens the policy at
  a given ``z``, but guarantees no minimum: the network can grow ``z`` to undo it.
* **Logit clipping with a straight-through gradient** (``logit_clip=c``): the forward
  pass uses ``clamp(z, -c, c)``, the backward pass treats the clamp as identity, so
  gradients never vanish at the bound. Guarantees ``max z - min z <= 2c`` hence
  ``p_i >= 1 / (1 + (K - 1) * exp(2c / T))``, at the price of a biased gradient.
* **Logit-range penalty** (``logit_penalty=w``, ``logit_penalty_bound=b``): adds
  ``w * mean_batch(relu(max z - b) + relu(-b - min z))`` (summed over sub-spaces) to
  the training loss. A soft constraint: it discourages, but does not forbid, logits
  beyond ``+-b``. It enters the loss through its gradient (a hook on the logits adds
  ``dP/dz``), which is the same as adding ``P`` to the loss and needs no change to
  SB3's PPO/A2C/MaskablePPO training loops.

Order of application: center, penalty (on the centered logits), clip, temperature.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch as th

from rlfloor.checks import check_number


@dataclass(frozen=True)
class LogitOptions:
    """Validated logit-transform settings (see the module docstring for their meaning).

    :param temperature: softmax temperature, ``> 0``; 1 leaves logits unchanged.
    :param logit_clip: clip bound ``c > 0`` (straight-through), or ``None`` for no clipping.
    :param center_logits: subtract the mean logit of each (sub-)space.
    :param logit_penalty: weight ``w >= 0`` of the logit-range penalty; 0 disables it.
    :param logit_penalty_bound: bound ``b > 0`` beyond which logits are penalized.
    """

    temperature: float = 1.0
    logit_clip: float | None = None
    center_logits: bool = False
    logit_penalty: float = 0.0
    logit_penalty_bound: float = 5.0

    def __post_init__(self) -> None:
        check_number("temperature", self.temperature, 0.0, low_open=True)
        if self.logit_clip is not None:
            check_number("logit_clip", self.logit_clip, 0.0, low_open=True)
        if not isinstance(self.center_logits, bool):
            raise ValueError(f"center_logits must be True or False, got {self.center_logits!r}")
        check_number("logit_penalty", self.logit_penalty, 0.0)
        check_number("logit_penalty_bound", self.logit_penalty_bound, 0.0, low_open=True)

    @property
    def is_identity(self) -> bool:
        """True when no transform is active (the policy head's logits are used as they are)."""
        return (
            self.temperature == 1.0 and self.logit_clip is None and not self.center_logits and self.logit_penalty == 0.0
        )


def straight_through_clip(logits: th.Tensor, bound: float) -> th.Tensor:
    """``clamp(logits, -bound, bound)`` in the forward pass, identity in the backward pass."""
    return logits + (logits.clamp(-bound, bound) - logits).detach()


def logit_range_penalty(logits: th.Tensor, bound: float) -> th.Tensor:
    """Per-sample hinge ``relu(max z - b) + relu(-b - min z)`` over the last dimension."""
    return th.relu(logits.amax(dim=-1) - bound) + th.relu(-bound - logits.amin(dim=-1))


class LogitTransform:
    """Applies :class:`LogitOptions` to the flat logits of one or several sub-spaces.

    Keeps a running sum of the penalty term so its magnitude can be logged
    (``loss/logit_penalty``); :meth:`pop_penalty` returns the mean since the last call.

    :param options: the validated settings.
    :param action_dims: sizes of the sub-spaces laid side by side in the logits.
    """

    def __init__(self, options: LogitOptions, action_dims: list[int]):
        self.options = options
        self.action_dims = list(action_dims)
        self._penalty_sum = 0.0
        self._penalty_count = 0

    def _split(self, logits: th.Tensor) -> tuple[th.Tensor, ...]:
        return th.split(logits, self.action_dims, dim=-1)

    def __call__(self, logits: th.Tensor, training: bool = False) -> th.Tensor:
        """Transform ``logits``; with ``training=True`` the penalty is attached and recorded."""
        opts = self.options
        if opts.is_identity:
            return logits
        if opts.center_logits:
            logits = th.cat([z - z.mean(dim=-1, keepdim=True) for z in self._split(logits)], dim=-1)
        if training and opts.logit_penalty > 0.0 and logits.requires_grad:
            self._attach_penalty(logits)
        if opts.logit_clip is not None:
            logits = straight_through_clip(logits, opts.logit_clip)
        if opts.temperature != 1.0:
            logits = logits / opts.temperature
        return logits

    def _attach_penalty(self, logits: th.Tensor) -> None:
        """Add the penalty's gradient to whatever gradient reaches ``logits``."""
        weight, bound = self.options.logit_penalty, self.options.logit_penalty_bound
        with th.enable_grad():
            leaf = logits.detach().requires_grad_(True)
            per_sample = sum(logit_range_penalty(z, bound) for z in self._split(leaf))
            penalty = weight * th.as_tensor(per_sample).mean()
            (grad,) = th.autograd.grad(penalty, leaf)
        self._penalty_sum += float(penalty.detach())
        self._penalty_count += 1
        logits.register_hook(lambda g: g + grad)

    def pop_penalty(self) -> float | None:
        """Mean penalty value (already multiplied by its weight) since the last call, or None."""
        if self._penalty_count == 0:
            return None
        mean = self._penalty_sum / self._penalty_count
        self._penalty_sum, self._penalty_count = 0.0, 0
        return mean
