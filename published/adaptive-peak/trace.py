"""Trace one PPO run on the off-tier bandit: the controller's state and the policy's own probabilities.

Prints, every ``--every`` rollouts, the rollout's hit rate (mean reward), the alarm, the entropy level, the floor
in force and the paying arm, and the softmax of the policy's logits (after its centring and clipping, if any)
*before* the floor mixes in ``min_prob``: the probabilities whose own size scales PPO's gradient. Run from the
repository root::

    PYTHONPATH=published/adaptive-peak .venv/bin/python published/adaptive-peak/trace.py --mode peak --seed 1
    PYTHONPATH=published/adaptive-peak .venv/bin/python published/adaptive-peak/trace.py --mode none --clip 3 --seed 1
    PYTHONPATH=published/adaptive-peak .venv/bin/python published/adaptive-peak/trace.py --mode mean --shrink --seed 1

``--mode none`` trains without the adaptive floor; ``--clip 3`` centres the logits and clips them to +-3
(straight-through), as the ``ppo-clip`` preset; ``--shrink`` shrinks the policy head at each alarm
(``shrink_head=True``; with ``--mode mean`` the ``p-adaptive-shrink`` preset). PPO's settings and the adaptive
floor's are read from this folder's ``presets.json`` (``p-stock``, ``p-adaptive``), so the trace runs what the
comparison ran.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import offtier  # noqa: F401  (registers OffBandit12k-v0)
import torch as th
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env

from rlfloor.callbacks import AdaptiveFloorCallback
from rlfloor.callbacks.adaptive_floor import REFERENCE_MODES
from rlfloor.policies import FlooredActorCriticPolicy

PRESETS = json.loads(Path(__file__).with_name("presets.json").read_text())


class Trace(BaseCallback):
    """Records, after each rollout, the hit rate, the controller's state and the probabilities before the floor."""

    def __init__(self, adaptive: AdaptiveFloorCallback | None):
        super().__init__()
        self.adaptive = adaptive
        self.rows: list[str] = []

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        policy = self.model.policy
        obs = th.ones((1, 1))
        with th.no_grad():
            logits = policy.head_logits(obs)
            if not policy._logits_as_is:
                logits = policy.logit_transform(logits)  # centring and clipping, as in training
            probs = th.softmax(logits, -1)[0].tolist()
        hits = float(self.model.rollout_buffer.rewards.mean())
        best = self.training_env.envs[0].unwrapped.best_arm()
        state = ""
        if self.adaptive is not None:
            controller = self.adaptive.controller
            state = f" alarm={int(controller.alarm)} entropy_level={controller.entropy_level:.3f}"
            state += f" floor={controller.floor:.3f}"
        softmax = " ".join(f"{p:.1e}" for p in probs)
        self.rows.append(f"{self.model.num_timesteps:6d} hits={hits:.2f}{state} paying={best} softmax={softmax}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=[*REFERENCE_MODES, "none"], default="peak")
    parser.add_argument("--clip", type=float, default=0.0, help="logit clip (0: none)")
    parser.add_argument("--shrink", action="store_true", help="shrink the policy head at each alarm (shrink_head)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--every", type=int, default=4, help="print every this many rollouts")
    args = parser.parse_args()
    th.set_num_threads(1)
    stock = PRESETS["p-stock"]
    env = make_vec_env("OffBandit12k-v0", n_envs=stock["n_envs"], seed=args.seed)
    policy_kwargs = {"logit_clip": args.clip, "center_logits": True} if args.clip else {}
    model = PPO(
        FlooredActorCriticPolicy,
        env,
        policy_kwargs=policy_kwargs,
        seed=args.seed,
        device="cpu",
        **stock["algo_kwargs"],
    )
    adaptive = None
    if args.mode != "none":
        settings = {**PRESETS["p-adaptive"]["adaptive_floor"], "reference_mode": args.mode, "shrink_head": args.shrink}
        adaptive = AdaptiveFloorCallback(**settings)
    trace = Trace(adaptive)
    model.learn(48_000, callback=[trace] if adaptive is None else [adaptive, trace])
    print("\n".join(trace.rows[:: args.every]))


if __name__ == "__main__":
    main()
