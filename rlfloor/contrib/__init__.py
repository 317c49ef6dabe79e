"""What needs sb3-contrib (``pip install rlfloor[contrib]``): floored, masked action
distributions and policies for ``MaskablePPO``.

* :mod:`rlfloor.contrib.distributions` -- the floor over each state's *valid* actions;
* :mod:`rlfloor.contrib.policies` -- ``FlooredMaskableActorCriticPolicy`` and its Cnn/MultiInput variants.

The old path :mod:`rlfloor.maskable` re-exports both.
"""
