"""MiniGrid's observation speed: ``ImgObsWrapper`` (MiniGrid's own view) vs ``FastImgObsWrapper``, side by side.

The measurement is :mod:`rlfloor_cli.bench_minigrid` (its docstring says how it measures).

    python scripts/bench_minigrid.py --help
"""

import tyro

from rlfloor_cli.bench_minigrid import Config, main

if __name__ == "__main__":
    main(tyro.cli(Config))
