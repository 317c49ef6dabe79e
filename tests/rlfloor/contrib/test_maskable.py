"""The floor over valid actions: sb3-contrib's MaskablePPO with the floored maskable policies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch as th

from rlfloor.distributions import floored_log_probs

pytest.importorskip("sb3_contrib")

DATA = Path(__file__).parent.parent / "data"
SMALL_PPO = dict(n_steps=64, batch_size=32, n_epochs=2, seed=0, device="cpu")


def probs_on(model: Any, observations: np.ndarray, **kwargs: Any) -> th.Tensor:
    obs_tensor, _ = model.policy.obs_to_tensor(observations)
    with th.no_grad():
        return model.policy.get_distribution(obs_tensor, **kwargs).distribution.probs


def test_masked_ppo_learns_with_floor_over_valid_actions(masked_env_factory: Callable[[], gym.Env]) -> None:
    from sb3_contrib import MaskablePPO

    from rlfloor.policies import FlooredMaskableActorCriticPolicy

    env = masked_env_factory()
    model = MaskablePPO(
        FlooredMaskableActorCriticPolicy, env, learning_rate=0.05, policy_kwargs={"min_prob": 0.15}, **SMALL_PPO
    )
    model.learn(256)
    states = np.arange(16)
    masks = np.stack([_frozen_masks(s) for s in states])
    probs = probs_on(model, states, action_masks=masks)
    assert th.all(probs[~th.as_tensor(masks)] == 0)
    assert th.all(probs[th.as_tensor(masks)] >= 0.15 - 1e-6)
    assert th.allclose(probs.sum(-1), th.ones(16), atol=1e-6)
    # the rollout never took an invalid action
    taken = model.rollout_buffer.actions.reshape(-1).astype(int)
    valid = model.rollout_buffer.action_masks.reshape(len(taken), 4)
    assert valid[np.arange(len(taken)), taken].all()


def _frozen_masks(state: int) -> np.ndarray:
    row, col = divmod(int(state), 4)
    return np.array([col > 0, row < 3, col < 3, row > 0])


def test_masked_state_without_valid_action_is_an_error() -> None:
    from rlfloor.contrib.distributions import FlooredMaskableCategoricalDistribution

    dist = FlooredMaskableCategoricalDistribution(3, 0.1).proba_distribution(th.zeros(2, 3))
    with pytest.raises(ValueError, match=r"no valid action in batch rows \[1\]"):
        dist.apply_masking(np.array([[True, False, False], [False, False, False]]))


def test_masked_entropy_counts_valid_actions_only() -> None:
    from rlfloor.contrib.distributions import (
        FlooredMaskableCategoricalDistribution,
        FlooredMaskableMultiCategoricalDistribution,
    )

    logits = th.tensor([[1e4, 0.0, -1e4, 5.0], [0.0, 0.0, 0.0, 0.0]], requires_grad=True)
    masks = th.tensor([[True, False, True, True], [False, True, True, False]])
    dist = FlooredMaskableCategoricalDistribution(4, 0.1).proba_distribution(logits)
    dist.apply_masking(masks)
    probs = dist.distribution.probs
    assert th.all(probs[~masks] == 0) and th.all(probs[masks] >= 0.1 - 1e-6)
    # row 1: two valid actions, uniform -> entropy log 2
    assert dist.entropy()[1].item() == pytest.approx(np.log(2), abs=1e-6)
    expected0 = -(probs[0][masks[0]] * probs[0][masks[0]].log()).sum()
    assert dist.entropy()[0].item() == pytest.approx(expected0.item(), abs=1e-5)
    (dist.entropy().sum() + dist.log_prob(th.tensor([2, 1])).sum()).backward()
    assert logits.grad is not None and th.all(th.isfinite(logits.grad))
    # MultiDiscrete: the floor and masks apply per sub-space
    multi = FlooredMaskableMultiCategoricalDistribution([2, 3], 0.2).proba_distribution(th.zeros(1, 5))
    multi.apply_masking(np.array([[True, True, False, True, True]]))
    assert multi.distributions[1].probs[0, 0].item() == 0.0
    assert multi.entropy().item() == pytest.approx(2 * np.log(2), abs=1e-6)


def test_masked_and_unmasked_floor_are_one_function() -> None:
    logits = th.tensor([[1e4, 0.0, -1e4, 5.0], [0.3, -0.2, 0.0, 2.0]])
    all_valid = th.ones_like(logits, dtype=th.bool)
    assert th.allclose(floored_log_probs(logits, 0.1, all_valid), floored_log_probs(logits, 0.1), atol=1e-6)
    # a masked row is the unmasked floor over its valid actions only
    mask = th.tensor([[True, False, True, True], [False, True, True, False]])
    masked = floored_log_probs(logits, 0.1, mask)
    for row in range(2):
        sub = floored_log_probs(logits[row, mask[row]][None], 0.1)[0]
        assert th.allclose(masked[row, mask[row]], sub, atol=1e-6)
        assert th.all(masked[row, ~mask[row]] == -float("inf"))


def test_the_pickled_path_names_the_same_classes() -> None:
    import rlfloor.contrib.policies as home
    import rlfloor.maskable as pickled
    from rlfloor import policies

    for name in pickled.__all__:  # what models saved before 0.2 name, nothing else
        assert getattr(pickled, name) is getattr(home, name)
    assert policies.FlooredMaskableActorCriticPolicy is home.FlooredMaskableActorCriticPolicy
    assert policies.FlooredMaskableMultiInputActorCriticPolicy is home.FlooredMaskableMultiInputActorCriticPolicy


def test_model_saved_by_the_previous_release_loads() -> None:
    """``legacy_maskable_floored.zip`` was saved by commit 0c602b2, whose class path was
    ``rlfloor.maskable.FlooredMaskableActorCriticPolicy`` (see tests/rlfloor/data/README.md)."""
    from sb3_contrib import MaskablePPO

    from rlfloor.contrib.policies import FlooredMaskableActorCriticPolicy

    model = MaskablePPO.load(DATA / "legacy_maskable_floored.zip", device="cpu")
    assert isinstance(model.policy, FlooredMaskableActorCriticPolicy)
    assert model.policy.min_prob == pytest.approx(0.1)
    reference = np.load(DATA / "legacy_probs.npz")
    with th.no_grad():
        probs = model.policy.get_distribution(th.arange(16)).distribution.probs.numpy()
    np.testing.assert_allclose(probs, reference["masked_probs"], atol=1e-6)
