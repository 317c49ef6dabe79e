"""Wall-time cost of the floor: stock vs floored PPO and A2C on CartPole-v1.

The measurement is :mod:`rlfloor_cli.bench_policy` (its docstring says how it measures).

    python scripts/bench_policy.py --help
"""

import tyro

from rlfloor_cli.bench_policy import Config, main

if __name__ == "__main__":
    main(tyro.cli(Config))
