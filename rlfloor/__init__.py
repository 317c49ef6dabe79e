"""rlfloor: exploration for policy-gradient RL.

Floored Stable-Baselines3 policies (:mod:`rlfloor.policies`), their distributions
(:mod:`rlfloor.distributions`, :mod:`rlfloor.maskable`), the alternative logit
transforms (:mod:`rlfloor.logits`), entropy control (:mod:`rlfloor.entropy`),
schedules (:mod:`rlfloor.schedules`) and callbacks (:mod:`rlfloor.callbacks`).
"""

__version__ = "0.1.0"
