"""rlfloor: exploration for policy-gradient RL.

* :mod:`rlfloor.policies` -- floored SB3 actor-critic policies (PPO, A2C; maskable ones for MaskablePPO);
* :mod:`rlfloor.distributions`, :mod:`rlfloor.maskable` -- the floored action distributions;
* :mod:`rlfloor.logits` -- temperature, straight-through clipping, logit-range penalty, centered logits;
* :mod:`rlfloor.entropy` -- scheduled and adaptive entropy coefficients;
* :mod:`rlfloor.schedules` -- schedules of training progress;
* :mod:`rlfloor.callbacks` -- floor schedule, entropy control and exploration metrics callbacks;
* :mod:`rlfloor.sweep`, :mod:`rlfloor.ray_backend`, :mod:`rlfloor.report` -- grids of runs and their statistics.

The library knows nothing of the benchmark environments (``envs``) or the agent presets (``agents``).
"""

__version__ = "0.1.0"
