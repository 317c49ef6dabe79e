"""ONNX export of floored (and stock) actor-critic policies, following SB3's recipe.

SB3's "Exporting models" guide wraps the policy in a module whose ``forward`` calls
``policy(observation, deterministic=True)`` and hands it to ``torch.onnx.export(...,
opset_version=17)``. Floored policies export the same way: the floor is computed with
``log_softmax`` and ``softplus`` (:func:`rlfloor.distributions.floored_logits`), both plain ONNX
operators, and the floor in force at export time is written into the graph as a constant.
:func:`export_onnx` is that recipe in one call; it needs the ``export`` extra
(``pip install rlfloor[export]``) only to *run* the file with onnxruntime.

As in SB3, the graph returns the raw action (no clipping or unscaling of Box actions), the
value and the log-probability of the action, and includes the observation preprocessing
(image scaling, one-hot encoding) but not a ``VecNormalize`` wrapper's normalization.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch as th
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.policies import BasePolicy

from rlfloor.checks import check_int


class OnnxableSB3Policy(th.nn.Module):
    """SB3's export wrapper: ``forward(observation) -> (action, value, log_prob)``.

    :param policy: an actor-critic policy (``model.policy``).
    :param deterministic: export the greedy action (``predict(deterministic=True)``); ``False``
        exports a sampled one.
    """

    def __init__(self, policy: BasePolicy, deterministic: bool = True):
        super().__init__()
        self.policy = policy
        self.deterministic = deterministic

    def forward(self, observation: th.Tensor) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
        """The action, the value and the log-probability of the action."""
        return self.policy(observation, deterministic=self.deterministic)


def export_onnx(
    model: BaseAlgorithm | BasePolicy,
    path: str | Path,
    *,
    opset_version: int = 17,
    deterministic: bool = True,
) -> Path:
    """Export a model's policy to an ONNX file with inputs ``observation`` and outputs ``action``,
    ``value`` and ``log_prob``, the batch dimension left dynamic.

    Uses torch's TorchScript-based exporter (``dynamo=False``), which SB3's recipe relies on and
    which needs no extra package.

    :param model: a PPO/A2C model or its policy (``Dict`` observation spaces are not supported).
    :param path: the ``.onnx`` file to write.
    :param opset_version: ONNX opset, ``>= 14`` (SB3's guide uses 17).
    :param deterministic: greedy actions (the default) or sampled ones.
    :return: the path written.
    :raises ValueError: for a ``Dict`` observation space or a bad opset.
    """
    check_int("opset_version", opset_version, 14)
    policy = model.policy if isinstance(model, BaseAlgorithm) else model
    if isinstance(policy.observation_space, spaces.Dict):
        raise ValueError(
            f"export_onnx supports array observations, got {policy.observation_space}: "
            "for Dict observations pass one tensor per key to torch.onnx.export yourself"
        )
    policy.set_training_mode(False)
    dummy, _ = policy.obs_to_tensor(policy.observation_space.sample())
    assert isinstance(dummy, th.Tensor)  # not a dict: Dict spaces were refused above
    path = Path(path)
    with warnings.catch_warnings():
        # Expected noise: torch's notice that the TorchScript exporter is the older one, and the
        # tracer noting that torch.distributions' argument validation runs once, at trace time.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", th.jit.TracerWarning)
        _export(policy, dummy, path, opset_version, deterministic)
    return path


def _export(policy: BasePolicy, dummy: th.Tensor, path: Path, opset_version: int, deterministic: bool) -> None:
    th.onnx.export(
        OnnxableSB3Policy(policy, deterministic),
        (dummy,),
        str(path),
        opset_version=opset_version,
        input_names=["observation"],
        output_names=["action", "value", "log_prob"],
        dynamic_axes={name: {0: "batch"} for name in ("observation", "action", "value", "log_prob")},
        dynamo=False,
    )


__all__ = ["OnnxableSB3Policy", "export_onnx"]
