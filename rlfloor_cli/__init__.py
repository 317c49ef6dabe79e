"""The project's commands: ``rlfloor-train``, ``rlfloor-compare``, ``rlfloor-scaling``, ``rlfloor-references``.

Each module is one command: a tyro config dataclass, the logic that plans and runs it, and ``main(args)``
(the console script in ``pyproject.toml``; ``scripts/*.py`` call the same ``main``). This package sits above
the three others (``rlfloor_cli -> agents, envs -> rlfloor``): a command needs the benchmark environments and
the agent presets, which the library (``rlfloor``, with its harness ``rlfloor.experiment``) must not import.
Nothing imports this package.

* :mod:`rlfloor_cli.train` -- train one preset on one env;
* :mod:`rlfloor_cli.compare` -- an env x agent x seed comparison with rliable statistics;
* :mod:`rlfloor_cli.scaling` -- bsuite's deep_sea scaling experiment (episodes-to-solve against N);
* :mod:`rlfloor_cli.references` -- measure the suite's reference returns.
"""
