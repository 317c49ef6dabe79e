"""Train one agent preset on one environment (the ``rlfloor-train`` command; see :mod:`rlfloor_cli.train`).

python scripts/train.py --env deepsea-6 --agent ppo-floor --seed 0
python scripts/train.py --env CartPole-v1 --agent a2c --timesteps 20000 --n-envs 4
"""

from rlfloor_cli.train import main

if __name__ == "__main__":
    main()
