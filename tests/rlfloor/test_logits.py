"""The alternative answers: temperature, straight-through clipping, range penalty, centering."""

from __future__ import annotations

import math

import pytest
import torch as th

from rlfloor.distributions import FlooredCategoricalDistribution
from rlfloor.logits import LogitTransform, logit_range_penalty, straight_through_clip
from rlfloor.settings import FloorSettings


def test_straight_through_clip_forward_clips_backward_is_identity() -> None:
    z = th.tensor([[-10.0, 0.5, 10.0]], requires_grad=True)
    out = straight_through_clip(z, 2.0)
    assert th.equal(out.detach(), th.tensor([[-2.0, 0.5, 2.0]]))
    (out * th.tensor([[1.0, 2.0, 3.0]])).sum().backward()
    assert th.equal(z.grad, th.tensor([[1.0, 2.0, 3.0]]))  # type: ignore[arg-type]


def test_clip_guarantees_minimum_probability() -> None:
    k, c, t = 5, 1.5, 2.0
    transform = LogitTransform(FloorSettings(logit_clip=c, temperature=t), [k])
    z = th.tensor([[1e4, 1e4, 1e4, 1e4, -1e4], [3.0, -3.0, 0.0, 0.0, 0.0], [1e4, -1e4, -1e4, -1e4, -1e4]])
    probs = th.softmax(transform(z), dim=-1)
    bound = 1.0 / (1.0 + (k - 1) * math.exp(2 * c / t))
    assert th.all(probs >= bound - 1e-7)
    assert probs[0].min().item() == pytest.approx(bound, rel=1e-5)


def test_temperature_scales_logits() -> None:
    z = th.tensor([[2.0, 0.0, -1.0]])
    out = LogitTransform(FloorSettings(temperature=4.0), [3])(z)
    assert th.allclose(th.softmax(out, -1), th.softmax(z / 4.0, -1))


def test_centering_changes_neither_distribution_nor_gradient() -> None:
    z = th.tensor([[2.0, 0.0, -1.0, 5.0, 1.0]], requires_grad=True)
    z_ref = z.detach().clone().requires_grad_(True)
    centered = LogitTransform(FloorSettings(center_logits=True), [2, 3])(z)
    # each sub-space sums to zero
    assert th.allclose(centered[:, :2].sum(-1), th.zeros(1), atol=1e-6)
    assert th.allclose(centered[:, 2:].sum(-1), th.zeros(1), atol=1e-6)
    target = th.tensor([1, 2])
    loss = -(th.log_softmax(centered[:, :2], -1)[0, target[0]] + th.log_softmax(centered[:, 2:], -1)[0, target[1]])
    loss_ref = -(th.log_softmax(z_ref[:, :2], -1)[0, target[0]] + th.log_softmax(z_ref[:, 2:], -1)[0, target[1]])
    loss.backward()
    loss_ref.backward()
    assert th.allclose(loss, loss_ref)
    assert th.allclose(z.grad, z_ref.grad, atol=1e-6)  # type: ignore[arg-type]


def test_penalty_gradient_equals_adding_penalty_to_loss() -> None:
    weight, bound = 0.3, 1.0
    z0 = th.tensor([[3.0, 0.0, -2.5], [0.5, 0.2, -0.1], [-4.0, 2.0, 1.5]])
    transform = LogitTransform(FloorSettings(logit_penalty=weight, logit_penalty_bound=bound), [3])

    z = z0.clone().requires_grad_(True)
    policy_loss = -th.log_softmax(transform(z, training=True), -1)[:, 0].mean()
    policy_loss.backward()

    z_ref = z0.clone().requires_grad_(True)
    penalty = weight * logit_range_penalty(z_ref, bound).mean()
    (-th.log_softmax(z_ref, -1)[:, 0].mean() + penalty).backward()

    assert th.allclose(z.grad, z_ref.grad, atol=1e-6)  # type: ignore[arg-type]
    assert transform.pop_penalty() == pytest.approx(penalty.item())
    assert transform.pop_penalty() is None  # popped


def test_penalty_not_recorded_outside_training() -> None:
    transform = LogitTransform(FloorSettings(logit_penalty=1.0, logit_penalty_bound=0.1), [2])
    z = th.tensor([[5.0, -5.0]], requires_grad=True)
    transform(z, training=False).sum().backward()
    assert th.equal(z.grad, th.ones_like(z))  # type: ignore[arg-type]
    assert transform.pop_penalty() is None


def test_transforms_compose_with_floor() -> None:
    transform = LogitTransform(FloorSettings(logit_clip=10.0, center_logits=True, temperature=0.5), [4])
    dist = FlooredCategoricalDistribution(4, 0.05).proba_distribution(transform(th.tensor([[1e4, 0.0, 0.0, -1e4]])))
    assert th.all(dist.distribution.probs >= 0.05 - 1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"temperature": 0.0}, r"temperature=0\.0 is outside the allowed range \(0, inf\)"),
        ({"temperature": math.nan}, "temperature=nan"),
        ({"logit_clip": -1.0}, r"logit_clip=-1\.0"),
        ({"logit_penalty": -0.1}, r"logit_penalty=-0\.1 is outside the allowed range \[0, inf\)"),
        ({"logit_penalty_bound": 0}, "logit_penalty_bound=0"),
        ({"center_logits": "yes"}, "center_logits must be True or False"),
    ],
)
def test_bad_options_are_rejected(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FloorSettings(**kwargs)  # type: ignore[arg-type]
