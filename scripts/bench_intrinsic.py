"""Wall-time cost of intrinsic rewards: stock PPO vs PPO with a bonus, trained side by side.

The measurement is :mod:`rlfloor_cli.bench_intrinsic` (its docstring says how it measures).

    python scripts/bench_intrinsic.py --timesteps 10000 --rounds 3
    python scripts/bench_intrinsic.py --minigrid --timesteps 20480 --rounds 2
"""

import tyro

from rlfloor_cli.bench_intrinsic import BenchConfig, main

if __name__ == "__main__":
    main(tyro.cli(BenchConfig))
