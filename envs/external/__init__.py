"""Thin wrappers that make the external tier's packages behave as Gymnasium 1.x expects.

Each module imports its optional package at the top and is imported only through a suite entry's
``wrappers`` (after :func:`envs.suite.make` has checked that the package is installed), so ``import envs``
never needs MiniGrid or MinAtar.

* :class:`envs.external.minigrid.FlatObsWrapper` -- MiniGrid's ``FlatObsWrapper``, re-creatable from
  ``env.spec``;
* :class:`envs.external.minatar.MinAtarSeeding` -- seeds ``np_random`` on ``reset(seed=...)``.
"""
