"""Feature extractors for SB3 policies: the small CNN for MiniGrid-style symbolic grids.

MiniGrid's image observation is not a picture: each cell of the agent's egocentric view holds three small
integers (object type, colour, state). :class:`GridCNN` is the network that learns MiniGrid in
lcswillems/rl-starter-files (``model.py``: Conv 2x2 16, ReLU, MaxPool 2x2, Conv 2x2 32, ReLU, Conv 2x2 64, ReLU),
as an SB3 ``BaseFeaturesExtractor``, so stock SB3 policies and rlfloor's floored policies use it alike::

    from minigrid.wrappers import ImgObsWrapper
    from stable_baselines3 import PPO
    from rlfloor.networks import GRID_POLICY_KWARGS

    env = ImgObsWrapper(gymnasium.make("MiniGrid-DoorKey-5x5-v0"))
    model = PPO("MlpPolicy", env, policy_kwargs=GRID_POLICY_KWARGS).learn(100_000)

The grid is fed unscaled (``normalize_images=False``, as rl-starter-files does): SB3 would otherwise divide the
small integer codes by 255. Channel order: SB3 transposes a channels-last ``uint8`` image space to channels-first
(``VecTransposeImage``) before the policy sees it; a grid SB3 does not treat as an image (another dtype or range)
arrives channels-last. :class:`GridCNN` reads the order from the space it is given (SB3's own rule, the smallest
dimension is the channels) unless ``channels_first`` says it.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch as th
from gymnasium import spaces
from stable_baselines3.common.preprocessing import is_image_space_channels_first
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

MIN_GRID_SIZE = 7
"""Smallest grid side the three 2x2 convolutions and the 2x2 pooling leave at least one cell of."""


def grid_cnn(n_channels: int) -> nn.Sequential:
    """rl-starter-files' convolutional trunk for ``n_channels`` input planes (ends in ReLU; flatten the output).

    One home for the grid CNN: :class:`GridCNN` (policies) and the networks of the intrinsic rewards build on it.
    """
    if isinstance(n_channels, bool) or not isinstance(n_channels, int) or n_channels < 1:
        raise ValueError(f"n_channels must be an integer >= 1, got {n_channels!r}")
    return nn.Sequential(
        nn.Conv2d(n_channels, 16, kernel_size=2),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=2),
        nn.Conv2d(16, 32, kernel_size=2),
        nn.ReLU(),
        nn.Conv2d(32, 64, kernel_size=2),
        nn.ReLU(),
        nn.Flatten(),
    )


def grid_layout(observation_space: gym.Space[Any], channels_first: bool | None = None) -> tuple[bool, int, int, int]:
    """``(channels_first, channels, height, width)`` of a grid observation space; ``ValueError`` if it is none.

    ``channels_first=None`` applies SB3's rule: the smallest of the three dimensions holds the channels.
    """
    if not isinstance(observation_space, spaces.Box) or len(observation_space.shape) != 3:
        raise ValueError(f"a grid CNN needs a 3-dimensional Box observation space, got {observation_space}")
    first = is_image_space_channels_first(observation_space) if channels_first is None else bool(channels_first)
    shape = observation_space.shape
    channels, height, width = shape if first else (shape[2], shape[0], shape[1])
    if min(height, width) < MIN_GRID_SIZE:
        raise ValueError(
            f"a grid CNN needs a grid of at least {MIN_GRID_SIZE}x{MIN_GRID_SIZE} cells, got {height}x{width} "
            f"(observation shape {shape}, channels {'first' if first else 'last'})"
        )
    return first, int(channels), int(height), int(width)


class GridCNN(BaseFeaturesExtractor):
    """rl-starter-files' MiniGrid CNN as an SB3 features extractor (64 features on a 7x7 view).

    :param observation_space: a 3-dimensional ``Box`` (the grid), channels first or last.
    :param channels_first: ``None`` (default): SB3's rule, the smallest dimension holds the channels;
        ``True``/``False`` to say it.
    """

    def __init__(self, observation_space: gym.Space[Any], channels_first: bool | None = None) -> None:
        first, channels, height, width = grid_layout(observation_space, channels_first)
        trunk = grid_cnn(channels)
        with th.no_grad():
            features = int(trunk(th.zeros(1, channels, height, width)).shape[1])
        super().__init__(observation_space, features)
        self.channels_first = first
        self.cnn = trunk

    def forward(self, observations: th.Tensor) -> th.Tensor:
        """Features of a batch of grids (channels moved first when the space is channels-last)."""
        if not self.channels_first:
            observations = observations.permute(0, 3, 1, 2)
        return self.cnn(observations.float())


GRID_POLICY_KWARGS: dict[str, Any] = {
    # lcswillems/rl-starter-files @317da04: model.py (CNN; actor and critic heads Linear 64 + Tanh, one shared
    # trunk) and scripts/train.py (--optim-eps 1e-8, for Adam and RMSprop). No image scaling.
    "features_extractor_class": GridCNN,
    "net_arch": {"pi": [64], "vf": [64]},
    "activation_fn": nn.Tanh,
    "normalize_images": False,
}
"""``policy_kwargs`` of an SB3 actor-critic policy on a MiniGrid-style grid (stock or floored)."""
