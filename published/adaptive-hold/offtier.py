"""An off-tier switching bandit for the held reference (``hold_steps``): 5 arms, a switch every 6,000 env steps
(4 env copies x 1,500 pulls each), another schedule seed than the suite's ``switching-bandit``."""

import gymnasium as gym

gym.register(
    "OffBandit-v0",
    entry_point="envs.switching_bandit:SwitchingBanditEnv",
    kwargs={"n_arms": 5, "switch_every": 1_500, "schedule_seed": 11},
)
