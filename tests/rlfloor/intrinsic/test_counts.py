"""Count tables (exact and SimHash): counts, keys, memory bounds and determinism."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from stable_baselines3 import PPO

from rlfloor.intrinsic import IntrinsicRewardCallback, SimHashCounter, check_exact_space, exact_counter
from rlfloor.intrinsic.counts import check_integer_values
from rlfloor.stats.coverage import StateVisitCounter, n_observation_states, state_keys


def one_hot(index: int, size: int = 9) -> np.ndarray:
    obs = np.zeros(size, dtype=np.float32)
    obs[index] = 1.0
    return obs


def test_exact_counts_accumulate_within_and_across_batches() -> None:
    counter = exact_counter(spaces.Box(0, 1, (9,), np.float32))
    first = counter.update(np.stack([one_hot(0), one_hot(3), one_hot(0)]))
    np.testing.assert_array_equal(first, [2, 1, 2])  # counts after the whole batch (Tang et al., Alg. 1)
    second = counter.update(np.stack([one_hot(3), one_hot(5)]))
    np.testing.assert_array_equal(second, [2, 1])
    assert counter.distinct == 3


def test_exact_keys_ignore_dtype_and_negative_zero() -> None:
    keys = state_keys(np.array([[0.0, 2.0], [-0.0, 2.0]]))
    assert keys[0] == keys[1] == state_keys(np.array([[0, 2]], dtype=np.int64))[0]
    assert state_keys(np.array([[2, 0]]))[0] != keys[0]


def test_exact_coverage_of_a_discrete_space() -> None:
    counter = exact_counter(spaces.Discrete(8))
    counter.update(np.array([0, 1, 1, 7]))
    assert counter.coverage() == pytest.approx(3 / 8)
    assert n_observation_states(spaces.MultiDiscrete([3, 4])) == 12
    assert n_observation_states(spaces.Box(-3, 3, (2,), np.int64)) == 49
    # A float one-hot Box's reachable states are not its grid of integer points: unknown unless given.
    assert n_observation_states(spaces.Box(0, 1, (9,), np.float32)) is None
    assert exact_counter(spaces.Box(0, 1, (9,), np.float32), n_states=9).coverage() == 0.0
    assert n_observation_states(spaces.Box(0, 255, (7, 7, 3), np.uint8)) is None  # beyond 2**62


def test_exact_table_is_capped() -> None:
    counter = exact_counter(spaces.Discrete(10), max_states=3)
    with pytest.warns(UserWarning, match="table full"):
        counts = counter.update(np.arange(5))
    assert counter.distinct == 3
    assert counter.overflow == 2
    np.testing.assert_array_equal(counts, [1, 1, 1, 1, 1])  # states beyond the cap count as seen once
    np.testing.assert_array_equal(counter.update(np.array([0, 4])), [2, 1])


def test_exact_counts_refuse_continuous_values() -> None:
    with pytest.raises(ValueError, match="non-integer observation values"):
        check_integer_values(np.array([[0.5, 1.0]]))
    check_integer_values(np.array([[0.0, 1.0]], dtype=np.float32))


def test_one_state_counter_serves_coverage_and_bonus() -> None:
    """The coverage metric's counter and the count bonus's table are one class (issue 21: one home)."""
    counter = exact_counter(spaces.Discrete(4))
    assert type(counter) is StateVisitCounter
    counter.update(np.array([0, 0, 1]))
    assert counter.visits == 3 and counter.entropy() == pytest.approx(-(2 / 3) * np.log(2 / 3) + np.log(3) / 3)
    counter.clear()
    assert counter.distinct == 0 and counter.visits == 0 and counter.entropy() == 0.0
    assert counter.add_key(state_keys(np.array([[1]]))[0]) == 1


@pytest.mark.parametrize(
    ("space", "match"),
    [
        (spaces.Box(-np.inf, np.inf, (4,), np.float32), "simhash"),
        (spaces.Box(0, 255, (100, 100, 3), np.uint8), "more than exact counts accept"),
        (spaces.Dict({"a": spaces.Discrete(2)}), "not supported"),
    ],
)
def test_exact_space_check(space: spaces.Space, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        check_exact_space(space)


def test_simhash_codes_shape_range_and_memory() -> None:
    space = spaces.Box(-1.0, 1.0, (5,), np.float32)
    counter = SimHashCounter(space, bits=6, seed=1)
    obs = np.random.default_rng(0).uniform(-1, 1, (50, 5)).astype(np.float32)
    codes = counter.codes(obs)
    assert codes.shape == (50,)
    assert codes.dtype == np.int64
    assert ((codes >= 0) & (codes < 2**6)).all()
    assert counter.table.shape == (2**6,)  # fixed memory: 2**bits counters
    assert counter.projection.shape == (5, 6)
    counts = counter.update(obs)
    assert counter.table.sum() == 50
    np.testing.assert_array_equal(counts, counter.table[codes])


def test_simhash_is_deterministic_per_seed_and_locality_sensitive() -> None:
    space = spaces.Box(-1.0, 1.0, (8,), np.float32)
    obs = np.random.default_rng(0).uniform(-1, 1, (100, 8)).astype(np.float32)
    a, b, c = SimHashCounter(space, seed=3), SimHashCounter(space, seed=3), SimHashCounter(space, seed=4)
    np.testing.assert_array_equal(a.codes(obs), b.codes(obs))
    assert not np.array_equal(a.codes(obs), c.codes(obs))
    np.testing.assert_array_equal(a.codes(obs), a.codes(obs * 2.5))  # sign(A x) ignores a positive scale
    assert (a.codes(obs) != a.codes(-obs)).all()  # every bit flips


def test_simhash_images_and_discrete() -> None:
    image = SimHashCounter(spaces.Box(0, 255, (7, 7, 3), np.uint8), bits=8)
    assert image.projection.shape == (147, 8)
    assert image.codes(np.zeros((4, 7, 7, 3), np.uint8)).shape == (4,)
    discrete = SimHashCounter(spaces.Discrete(5), bits=4)
    assert discrete.projection.shape == (5, 4)  # one-hot features
    with pytest.raises(ValueError, match="bits=30"):
        SimHashCounter(spaces.Discrete(5), bits=30)


def test_a_saved_table_is_continued_only_with_its_settings(tmp_path: Path) -> None:
    """A 16-bit SimHash table continued with ``bits=8`` is refused in one line (it used to keep 16 bits
    silently); the same settings continue it, spelled out or left at their defaults (issue 22)."""
    model: Any = PPO("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.learn(64, callback=IntrinsicRewardCallback("simhash", method_kwargs={"bits": 16}))
    assert model.intrinsic_state.settings == {"bits": 16, "seed": 0}
    model.save(tmp_path / "model.zip")
    loaded: Any = PPO.load(tmp_path / "model.zip", env=gym.make("CartPole-v1"), device="cpu")
    with pytest.raises(ValueError, match=r"^the model's saved 'simhash' state was built with bits=16; .* bits=8: "):
        loaded.learn(
            64, callback=IntrinsicRewardCallback("simhash", method_kwargs={"bits": 8}), reset_num_timesteps=False
        )
    with pytest.raises(ValueError, match=r"built with seed=0; this callback asks for seed=5"):
        loaded.learn(
            64, callback=IntrinsicRewardCallback("simhash", method_kwargs={"seed": 5}), reset_num_timesteps=False
        )
    table = loaded.intrinsic_state.novelty
    loaded.learn(64, callback=IntrinsicRewardCallback("simhash"), reset_num_timesteps=False)  # defaults: 16 bits
    assert loaded.intrinsic_state.novelty is table and table.table.sum() == 128
    del loaded.intrinsic_state.settings  # a state saved before the settings were recorded: its table's bits
    with pytest.raises(ValueError, match="built with bits=16; this callback asks for bits=8"):
        loaded.learn(
            64, callback=IntrinsicRewardCallback("simhash", method_kwargs={"bits": 8}), reset_num_timesteps=False
        )
