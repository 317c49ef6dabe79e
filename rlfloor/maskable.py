"""The class path that models saved before 0.2 name: ``rlfloor.maskable.FlooredMaskableActorCriticPolicy``.

SB3 pickles a model's policy class by reference (module and name), so this module keeps those names
importable for ``MaskablePPO.load``; the classes live in :mod:`rlfloor.contrib.policies`. Import them from
there (``tests/rlfloor/contrib/test_maskable.py`` loads such a saved model).
"""

from __future__ import annotations

from rlfloor.contrib.policies import (
    FlooredMaskableActorCriticCnnPolicy,
    FlooredMaskableActorCriticPolicy,
    FlooredMaskableMultiInputActorCriticPolicy,
)

__all__ = [
    "FlooredMaskableActorCriticCnnPolicy",
    "FlooredMaskableActorCriticPolicy",
    "FlooredMaskableMultiInputActorCriticPolicy",
]
