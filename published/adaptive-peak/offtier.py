"""An off-tier switching bandit for the re-arming reference (``reference_mode="peak"``): 5 arms, a switch every
12,000 env steps (4 env copies x 3,000 pulls each), another arm count, spacing and schedule seed than the suite's
``switching-bandit`` (4 arms, 10,000 steps, schedule seed 0)."""

import gymnasium as gym

gym.register(
    "OffBandit12k-v0",
    entry_point="envs.switching_bandit:SwitchingBanditEnv",
    kwargs={"n_arms": 5, "switch_every": 3_000, "schedule_seed": 11},
)
