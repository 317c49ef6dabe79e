"""What needs sb3-contrib (``pip install rlfloor[contrib]``): floored, masked action
distributions and policies for ``MaskablePPO``.

* :mod:`rlfloor.contrib.distributions` -- the floor over each state's *valid* actions;
* :mod:`rlfloor.contrib.policies` -- ``FlooredMaskableActorCriticPolicy`` and its Cnn/MultiInput variants.

Models saved before 0.2 name the policies' old path, :mod:`rlfloor.maskable`, which keeps only those names.
"""
