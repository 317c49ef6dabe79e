"""Small helpers shared by the environment tests."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


def random_action(env: gym.Env[Any, Any], rng: np.random.Generator) -> int:
    """A uniformly random action, uniform over the valid ones if the env exposes ``action_masks``."""
    base = env.unwrapped
    if hasattr(base, "action_masks"):
        valid = np.flatnonzero(base.action_masks())
        return int(valid[rng.integers(len(valid))])
    return int(rng.integers(env.action_space.n))  # type: ignore[attr-defined]


def rollout(
    env: gym.Env[Any, Any], seed: int, steps: int, action_seed: int = 0
) -> list[tuple[Any, float, bool, bool, dict[str, Any]]]:
    """``steps`` random transitions from a seeded reset, resetting (unseeded) at episode ends."""
    rng = np.random.default_rng(action_seed)
    obs, info = env.reset(seed=seed)
    out: list[tuple[Any, float, bool, bool, dict[str, Any]]] = [(obs, 0.0, False, False, info)]
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(random_action(env, rng))
        out.append((obs, reward, terminated, truncated, info))
        if terminated or truncated:
            obs, info = env.reset()
            out.append((obs, 0.0, False, False, info))
    return out


def episode_returns(env: gym.Env[Any, Any], episodes: int, seed: int) -> np.ndarray:
    """Undiscounted returns of ``episodes`` uniformly random episodes (valid actions only)."""
    rng = np.random.default_rng(seed)
    returns = np.empty(episodes)
    env.reset(seed=seed)
    for i in range(episodes):
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(random_action(env, rng))
            total += reward
            done = terminated or truncated
        returns[i] = total
        env.reset()
    return returns


def run_actions(env: gym.Env[Any, Any], actions: list[int], seed: int = 0) -> tuple[float, dict[str, Any], int]:
    """Play ``actions`` from a seeded reset until the episode ends; return (return, last info, steps)."""
    env.reset(seed=seed)
    total = 0.0
    info: dict[str, Any] = {}
    for t, action in enumerate(actions, start=1):
        _, reward, terminated, truncated, info = env.step(action)
        total += reward
        if terminated or truncated:
            return total, info, t
    return total, info, len(actions)
