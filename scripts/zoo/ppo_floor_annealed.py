"""rl-zoo3 hyperparameters (a Python config): PPO with an annealed probability floor.

    python -m rl_zoo3.train --algo ppo --env CartPole-v1 -conf scripts/zoo/ppo_floor_annealed.py -f logs/

rl-zoo3 runs a ``.py`` config and reads its ``hyperparams`` dict, so rlfloor's schedules are plain imports:
no quoted class paths and no ``__import__`` inside an eval'd string. ``policy_kwargs`` is a dict here (rl-zoo3
only evals strings), and ``FloorScheduleCallback`` puts the scheduled floor in force before every rollout
(``floor/min_prob`` in the logs). The PPO settings are rl-zoo3's own for CartPole-v1 (``hyperparams/ppo.yml``).
"""

from rlfloor.schedules import LinearSchedule

hyperparams = {
    "CartPole-v1": dict(
        n_envs=8,
        n_timesteps=1e5,
        policy="rlfloor.policies.FlooredActorCriticPolicy",
        policy_kwargs=dict(min_prob=LinearSchedule(0.05, 0.0)),
        callback="rlfloor.callbacks.FloorScheduleCallback",
        n_steps=32,
        batch_size=256,
        gae_lambda=0.8,
        gamma=0.98,
        n_epochs=20,
        ent_coef=0.0,
        learning_rate="lin_0.001",
        clip_range="lin_0.2",
    ),
}
