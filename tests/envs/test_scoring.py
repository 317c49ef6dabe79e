"""envs.scoring: normalization, clipping, and why a run's returns are averaged before normalizing."""

from __future__ import annotations

import math

import pytest

from envs.scoring import normalized_score, score_returns


def test_random_scores_0_optimal_scores_1_and_linear_between() -> None:
    assert normalized_score(-5.0, -5.0, 15.0) == 0.0
    assert normalized_score(15.0, -5.0, 15.0) == 1.0
    assert normalized_score(5.0, -5.0, 15.0) == pytest.approx(0.5)


def test_scores_are_clipped() -> None:
    assert normalized_score(-100.0, 0.0, 1.0) == 0.0
    assert normalized_score(100.0, 0.0, 1.0) == 1.0


@pytest.mark.parametrize(
    ("random_return", "optimal_return"), [(1.0, 1.0), (2.0, 1.0), (math.nan, 1.0), (0.0, math.inf)]
)
def test_bad_references_raise(random_return: float, optimal_return: float) -> None:
    with pytest.raises(ValueError, match="random_return"):
        normalized_score(0.5, random_return, optimal_return)


def test_score_returns_averages_before_normalizing() -> None:
    # a 4-armed bandit pulled at random: one pull in four pays 1
    returns = [1.0, 0.0, 0.0, 0.0] * 25
    per_episode = sum(normalized_score(r, 0.25, 1.0) for r in returns) / len(returns)
    assert per_episode == pytest.approx(0.25)  # the biased way
    assert score_returns(returns, 0.25, 1.0) == 0.0  # the documented way


def test_score_returns_rejects_empty_and_non_finite() -> None:
    with pytest.raises(ValueError, match="at least one"):
        score_returns([], 0.0, 1.0)
    with pytest.raises(ValueError, match="finite"):
        score_returns([0.5, math.nan], 0.0, 1.0)


def test_one_score_function_and_its_nan_semantics() -> None:
    """The harness scores through ResolvedEnv.score, which is normalized_score, NaN without references."""
    import math

    from envs.resolve import resolve

    assert math.isnan(normalized_score(math.nan, 0.0, 1.0))  # no episodes: unknown, not 0
    suite_env = resolve("deepsea-6")
    assert suite_env.random_return is not None and suite_env.optimal_return is not None
    assert suite_env.score(suite_env.optimal_return) == 1.0 and suite_env.score(-1e9) == 0.0
    assert math.isnan(resolve("CartPole-v1").score(100.0))  # no references: raw returns
    assert resolve("CartPole-v1", {"CartPole-v1": {"random": 20.0, "optimal": 500.0}}).score(260.0) == 0.5
