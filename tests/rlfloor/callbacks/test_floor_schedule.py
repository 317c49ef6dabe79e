"""Floor schedules over real learn() calls: the end value is reached, continuation never goes back."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback

from rlfloor.callbacks import FloorScheduleCallback
from rlfloor.policies import FlooredActorCriticPolicy
from rlfloor.schedules import LinearSchedule, RunProgress

SMALL_PPO: dict[str, Any] = dict(n_steps=64, batch_size=64, n_epochs=1, seed=0, device="cpu")


class Record(BaseCallback):
    """The floor in force during each rollout."""

    def __init__(self, stop_after: int | None = None):
        super().__init__()
        self.seen: list[float] = []
        self.stop_after = stop_after

    def _on_rollout_end(self) -> None:
        policy: Any = self.model.policy
        self.seen.append(float(policy.min_prob))

    def _on_step(self) -> bool:
        return self.stop_after is None or self.num_timesteps < self.stop_after


def model() -> PPO:
    return PPO(
        FlooredActorCriticPolicy,
        gym.make("CartPole-v1"),
        policy_kwargs={"min_prob": LinearSchedule(0.3, 0.0)},
        **SMALL_PPO,
    )


def test_first_rollout_uses_start_last_uses_end_and_it_stays() -> None:
    agent, record = model(), Record()
    agent.learn(256, callback=[FloorScheduleCallback(), record])  # 4 rollouts
    assert record.seen == pytest.approx([0.3, 0.2, 0.1, 0.0])
    assert agent.policy.min_prob == 0.0
    # 250 steps: SB3 still runs 4 rollouts of 64; the last one (from step 192) gets the end value
    agent, record = model(), Record()
    agent.learn(250, callback=[FloorScheduleCallback(), record])
    assert record.seen == pytest.approx([0.3, 0.2, 0.1, 0.0])


def test_continuation_holds_a_finished_schedule() -> None:
    agent, schedule = model(), FloorScheduleCallback()
    agent.learn(256, callback=schedule)
    for callback in (schedule, FloorScheduleCallback()):  # the same callback, or a new one (a loaded model)
        record = Record()
        agent.learn(128, callback=[callback, record], reset_num_timesteps=False)
        assert record.seen == [0.0, 0.0]  # SB3's progress would restart at 0.5: the floor would rise
        assert agent.policy.min_prob == 0.0
    record = Record()
    agent.learn(128, callback=[schedule, record])  # reset_num_timesteps=True: a new run, a new schedule
    assert record.seen == pytest.approx([0.3, 0.0])


def test_continuation_finishes_an_interrupted_schedule() -> None:
    agent, schedule = model(), FloorScheduleCallback()
    first = Record(stop_after=100)  # stops during the second of 4 rollouts
    agent.learn(256, callback=[schedule, first])
    assert first.seen == pytest.approx([0.3])
    assert agent.policy.min_prob == pytest.approx(0.2)  # not forced to the end
    rest = Record()
    agent.learn(192, callback=[schedule, rest], reset_num_timesteps=False)  # 3 more rollouts
    assert rest.seen == pytest.approx([0.2, 0.1, 0.0])  # from where it stopped, down to the end
    assert all(a >= b for a, b in zip([*first.seen, *rest.seen], [*first.seen, *rest.seen][1:], strict=False))


def test_run_progress_without_training() -> None:
    class Model:
        num_timesteps, n_steps, n_envs = 0, 10, 2

    progress, agent = RunProgress(), Model()
    progress.start(agent, 100)  # 5 rollouts of 20 steps, starting at 0, 20, ..., 80
    assert [progress.at(t) for t in (0, 20, 40, 60, 80)] == pytest.approx([1.0, 0.75, 0.5, 0.25, 0.0])
    agent.num_timesteps = 100
    progress.start(agent, 140, reset_num_timesteps=False)
    assert progress.at(100) == 0.0 and progress.at(120) == 0.0
    agent.num_timesteps = 40
    progress, one = RunProgress(), RunProgress()
    progress.start(agent, 60, reset_num_timesteps=True)  # a fresh run starts at 1 whatever num_timesteps says
    assert progress.at(40) == 1.0
    one.start(Model(), 5)  # a single rollout: the start value (FloorScheduleCallback sets the end after it)
    assert one.at(0) == 1.0


def test_every_rlfloor_schedule_reads_one_clock() -> None:
    """Floor, entropy coefficient and intrinsic coefficient follow the same progress, also on a continued
    learn() (where SB3's own progress would restart part-way)."""
    from stable_baselines3.common.logger import Logger

    from rlfloor.callbacks import EntropyScheduleCallback, IntrinsicRewardCallback

    class Coefs(Record):
        def __init__(self) -> None:
            super().__init__()
            self.values: list[tuple[float, float, float]] = []

        def _on_training_start(self) -> None:
            recorded: dict[str, float] = {}
            original = self.model.logger.record

            def record(key: str, value: Any, exclude: Any = None) -> None:
                if key in ("entropy/coef", "intrinsic/coef"):
                    recorded[key] = float(value)
                original(key, value, exclude)

            self.recorded = recorded
            self.model.logger.record = record  # type: ignore[method-assign]

        def _on_rollout_start(self) -> None:
            if self.recorded:  # after the previous rollout's updates: its entropy and intrinsic coefficients
                self.values.append((self.seen[-1], self.recorded["entropy/coef"], self.recorded["intrinsic/coef"]))

        def _on_training_end(self) -> None:
            self._on_rollout_start()

    agent = model()
    agent.set_logger(Logger(None, []))
    callbacks = [
        FloorScheduleCallback(),
        EntropyScheduleCallback(LinearSchedule(0.3, 0.0)),
        IntrinsicRewardCallback(method="rnd", coef=LinearSchedule(0.3, 0.0)),
    ]
    coefs = Coefs()
    agent.learn(256, callback=[*callbacks, coefs])
    agent.learn(128, callback=[*callbacks, coefs], reset_num_timesteps=False)
    for floor, entropy, intrinsic in coefs.values:
        assert floor == pytest.approx(entropy) == pytest.approx(intrinsic)
    assert [v[0] for v in coefs.values] == pytest.approx([0.3, 0.2, 0.1, 0.0, 0.0, 0.0])
