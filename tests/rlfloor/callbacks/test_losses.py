"""Loss terms come from SB3's documented logger keys; this test fails loudly if SB3 renames them."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from stable_baselines3 import A2C, PPO

from rlfloor.callbacks import LossTermsCallback
from rlfloor.callbacks.losses import LOSS_KEYS, loss_terms


@pytest.mark.parametrize(
    ("algo", "kwargs"), [(PPO, dict(n_steps=64, batch_size=64, n_epochs=1)), (A2C, dict(n_steps=8))]
)
def test_sb3_still_logs_the_documented_loss_keys(algo: type, kwargs: dict[str, Any]) -> None:
    model = algo("MlpPolicy", "CartPole-v1", seed=0, device="cpu", **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # LossTermsCallback warns when a key is missing
        model.learn(3 * kwargs["n_steps"], callback=LossTermsCallback())
    recorded = model.logger.name_to_value  # the last update's values: no dump since (log_interval)
    for name, keys in LOSS_KEYS.items():
        assert any(key in recorded for key in keys), f"SB3 {algo.__name__} no longer logs {keys} (loss/{name})"


def test_loss_terms_are_weighted_as_in_the_loss() -> None:
    recorded = {"train/policy_loss": -0.5, "train/value_loss": 4.0, "train/entropy_loss": -0.6}
    assert loss_terms(recorded, 0.5, 0.01, None) == pytest.approx({"policy": -0.5, "value": 2.0, "entropy": -0.006})
    assert loss_terms({"train/policy_gradient_loss": 1.0}, 0.5, 0.0, 0.2) == {"policy": 1.0, "logit_penalty": 0.2}


class Renamed(PPO):
    """SB3 with its loss keys renamed: what LossTermsCallback must not let pass silently."""

    def train(self) -> None:
        super().train()
        for key in ("train/value_loss", "train/entropy_loss"):
            self.logger.name_to_value.pop(key, None)


def test_missing_keys_warn_once() -> None:
    model = Renamed("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=64, n_epochs=1, seed=0, device="cpu")
    with pytest.warns(UserWarning, match=r"logged none of train/value_loss.*loss/value is not logged") as caught:
        model.learn(256, callback=LossTermsCallback())
    assert len([w for w in caught if "logged none of" in str(w.message)]) == 1


class Recording(A2C):
    """A2C that keeps each update's ``train/value_loss`` (the callback reads them before the next rollout)."""

    value_losses: list[float]

    def train(self) -> None:
        super().train()
        self.value_losses.append(float(self.logger.name_to_value["train/value_loss"]))


def test_terms_are_the_mean_of_the_interval_updates_recorded_once_before_the_dump() -> None:
    model = Recording("MlpPolicy", "CartPole-v1", n_steps=5, seed=0, device="cpu")
    model.value_losses = []
    dumped: list[dict[str, float]] = []  # the loss/ values at each dump

    class Spy(LossTermsCallback):
        def _on_training_start(self) -> None:
            super()._on_training_start()
            original = self.logger.dump  # the logger is made in learn(): wrap its dump here

            def spy_dump(step: int = 0) -> None:
                dumped.append({k: float(v) for k, v in self.logger.name_to_value.items() if k.startswith("loss/")})
                original(step)

            self.logger.dump = spy_dump  # type: ignore[method-assign]

        def _on_rollout_end(self) -> None:  # between dumps nothing of loss/ is in the logger
            if self._rollouts % 4:
                assert not any(k.startswith("loss/") for k in self.logger.name_to_value)

    callback = Spy()
    model.learn(5 * 12, callback=callback, log_interval=4)
    assert len(dumped) == 3
    updates = model.value_losses  # update i is read at the start of rollout i + 2
    assert dumped[0]["loss/value"] == pytest.approx(model.vf_coef * np.mean(updates[0:3]), rel=1e-6)
    assert dumped[1]["loss/value"] == pytest.approx(model.vf_coef * np.mean(updates[3:7]), rel=1e-6)
    assert dumped[2]["loss/value"] == pytest.approx(model.vf_coef * np.mean(updates[7:11]), rel=1e-6)
    for values in dumped:
        shares = sum(values[f"loss/{term}_share"] for term in ("policy", "value", "entropy"))
        assert shares == pytest.approx(1.0)
