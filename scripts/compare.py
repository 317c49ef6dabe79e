"""Compare agent presets on an env x agent x seed grid (the ``rlfloor-compare`` command; see
:mod:`rlfloor_cli.compare`).

    python scripts/compare.py                                   # the default comparison (~10 min, 2 cores)
    python scripts/compare.py --envs deepsea-6 deceptive-chain --agents ppo ppo-floor --seeds 10
"""

from rlfloor_cli.compare import main

if __name__ == "__main__":
    main()
