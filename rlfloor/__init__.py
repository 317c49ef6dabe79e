"""rlfloor: exploration for policy-gradient RL.

The library:

* :mod:`rlfloor.policies` -- floored SB3 actor-critic policies (PPO, A2C), :func:`~rlfloor.policies.floored_from_stock`;
  :mod:`rlfloor.policy_base` -- the mixin they share; :mod:`rlfloor.settings` -- their eight settings, declared
  once; :mod:`rlfloor.contrib` -- the maskable ones (MaskablePPO);
* :mod:`rlfloor.distributions` -- the floored action distributions (one floored log-prob function);
* :mod:`rlfloor.logits` -- temperature, straight-through clipping, logit-range penalty, centered logits;
* :mod:`rlfloor.schedules` -- schedules of training progress;
* :mod:`rlfloor.callbacks` -- one job per callback: floor schedule, adaptive floor, entropy control,
  exploration metrics (policy statistics, visits, loss terms, gradient coherence);
* :mod:`rlfloor.intrinsic` -- count, SimHash and RND bonuses and episodic novelty (episodic counts, NovelD, E3B)
  that enter the rewards before GAE;
* :mod:`rlfloor.networks` -- the grid CNN for MiniGrid-style observations (an SB3 features extractor);
* :mod:`rlfloor.stats` -- pure functions behind the metrics;
* :mod:`rlfloor.export` -- ONNX export; :mod:`rlfloor.checks` -- argument checks.

The harness, which nothing above imports:

* :mod:`rlfloor.experiment` -- run one preset on one env, the content-keyed results store, sweeps on a
  local process pool or Ray, and the rliable report.

``rlfloor.maskable`` keeps the policy class names that models saved before 0.2 pickled (nothing else).
The library knows nothing of the benchmark environments (``envs``) or the agent presets (``agents``).
"""

__version__ = "0.2.0"
