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

import torch as th

from rlfloor.settings import FloorSettings


def straight_through_clip(logits: th.Tensor, bound: float) -> th.Tensor:
    """``clamp(logits, -bound, bound)`` in the forward pass, identity in the backward pass."""
    return logits + (logits.clamp(-bound, bound) - logits).detach()


def logit_range_penalty(logits: th.Tensor, bound: float) -> th.Tensor:
    """Per-sample hinge ``relu(max z - b) + relu(-b - min z)`` over the last dimension."""
    return th.relu(logits.amax(dim=-1) - bound) + th.relu(-bound - logits.amin(dim=-1))


class LogitTransform:
    """Applies the logit options of :class:`~rlfloor.settings.FloorSettings` to the flat logits of one or
    several sub-spaces.

    Keeps a running sum of the penalty term so its magnitude can be logged
    (``loss/logit_penalty``); :meth:`pop_penalty` returns the mean since the last call.

    :param options: the validated settings (the floors in them are not read here).
    :param action_dims: sizes of the sub-spaces laid side by side in the logits.
    """

    def __init__(self, options: FloorSettings, action_dims: list[int]):
        self.options = options
        self.action_dims = list(action_dims)
        self._penalty_sum = 0.0
        self._penalty_count = 0

    def _split(self, logits: th.Tensor) -> tuple[th.Tensor, ...]:
        return th.split(logits, self.action_dims, dim=-1)

    def __call__(self, logits: th.Tensor, training: bool = False) -> th.Tensor:
        """Transform ``logits``; with ``training=True`` the penalty is attached and recorded."""
        opts = self.options
        if opts.logits_as_is:
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
