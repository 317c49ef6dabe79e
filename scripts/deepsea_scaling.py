"""bsuite's deep_sea scaling experiment for rlfloor presets (the ``rlfloor-scaling`` command; see
:mod:`rlfloor_cli.scaling`).

    python scripts/deepsea_scaling.py                                   # 4 presets x N in 10 14 20 24 30 x 10 seeds
    python scripts/deepsea_scaling.py --agents ppo-count --sizes 10 20 --seeds 1 --workers 1
"""

from rlfloor_cli.scaling import main

if __name__ == "__main__":
    main()
