import sys

import gymnasium as gym
import numpy as np
import torch as th
from sb3_contrib import MaskablePPO
from sb3_contrib.common.wrappers import ActionMasker
from stable_baselines3 import PPO

from rlfloor.maskable import FlooredMaskableActorCriticPolicy  # the class path of 0c602b2
from rlfloor.policies import FlooredActorCriticPolicy
from rlfloor.schedules import LinearSchedule

out = sys.argv[1]
m = PPO(
    FlooredActorCriticPolicy,
    gym.make("CartPole-v1"),
    n_steps=32,
    batch_size=32,
    n_epochs=1,
    seed=0,
    device="cpu",
    policy_kwargs={"min_prob": LinearSchedule(0.2, 0.05), "net_arch": [8], "temperature": 1.5},
)
m.learn(32)
m.policy.set_floor(0.123)
m.save(f"{out}/legacy_ppo_floored.zip")


def masks(env):
    s = int(env.unwrapped.s)
    r, c = divmod(s, 4)
    return np.array([c > 0, r < 3, c < 3, r > 0])


env = ActionMasker(gym.make("FrozenLake-v1", is_slippery=False), masks)
mm = MaskablePPO(
    FlooredMaskableActorCriticPolicy,
    env,
    n_steps=32,
    batch_size=32,
    n_epochs=1,
    seed=0,
    device="cpu",
    policy_kwargs={"min_prob": 0.1, "net_arch": [8]},
)
mm.learn(32)
mm.save(f"{out}/legacy_maskable_floored.zip")
obs = np.stack([gym.make("CartPole-v1").observation_space.sample() for _ in range(8)]).astype(np.float32)
rng = np.random.default_rng(0)
obs = rng.normal(size=(8, 4)).astype(np.float32)
with th.no_grad():
    p = m.policy.get_distribution(th.as_tensor(obs)).distribution.probs.numpy()
    pm = mm.policy.get_distribution(th.arange(16)).distribution.probs.numpy()  # unmasked
np.savez(f"{out}/legacy_probs.npz", obs=obs, probs=p, masked_probs=pm)
print(p[:2], pm[:2])
