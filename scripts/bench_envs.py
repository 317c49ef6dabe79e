"""Raw speed of every rlfloor environment next to CartPole-v1, measured in the same run.

The measurement is :mod:`rlfloor_cli.bench_envs` (its docstring says how it measures).

    python scripts/bench_envs.py --help
"""

import tyro

from rlfloor_cli.bench_envs import Config, main

if __name__ == "__main__":
    main(tyro.cli(Config))
