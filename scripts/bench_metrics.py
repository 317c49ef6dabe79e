"""Cost of the exploration metrics: PPO and A2C on CartPole-v1, stock vs. with ``ExplorationMetricsCallback``.

The measurement is :mod:`rlfloor_cli.bench_metrics` (its docstring says how it measures).

    python scripts/bench_metrics.py --help
"""

import sys

import tyro

from rlfloor_cli.bench_metrics import Args, main

if __name__ == "__main__":
    sys.exit(main(tyro.cli(Args)))
