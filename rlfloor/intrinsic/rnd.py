"""Random Network Distillation (Burda et al. 2018, "Exploration by Random Network Distillation").

A fixed, randomly initialised *target* network ``f`` and a trained *predictor* ``f_hat`` map a
normalized observation to an embedding; the novelty of ``s`` is the prediction error
``||f_hat(s) - f(s)||^2`` (mean over the embedding). Observations are normalized by a running
mean and standard deviation and clipped to ``[-5, 5]``, as in the paper (section 2.4). The
predictor is trained by the callback on each rollout's observations; the target never changes.

Vector observations use an MLP, grids (``H x W x C`` or ``C x H x W``, uint8 or float, e.g. MiniGrid's 7x7x3
or MinAtar's 10x10xC) the package's grid CNN (:func:`embedding_network`).
"""

from __future__ import annotations

import numpy as np
import torch as th
from gymnasium import spaces
from numpy.typing import NDArray
from stable_baselines3.common.preprocessing import preprocess_obs
from stable_baselines3.common.running_mean_std import RunningMeanStd
from torch import nn

from rlfloor.checks import check_int, check_number
from rlfloor.networks import grid_cnn, grid_layout

OBS_CLIP = 5.0
"""Normalized observations are clipped to ``[-OBS_CLIP, OBS_CLIP]`` (Burda et al. 2018)."""


def check_rnd_space(space: spaces.Space) -> None:
    """Raise ``ValueError`` unless RND has a network for this observation space."""
    if isinstance(space, spaces.Discrete | spaces.MultiDiscrete | spaces.MultiBinary):
        return
    if isinstance(space, spaces.Box) and len(space.shape) in (1, 3):
        return
    raise ValueError(
        f"observation space {space} is not supported by RND; allowed: Discrete, MultiDiscrete, MultiBinary, "
        "1-d Box (MLP) or 3-d Box image grid (CNN)"
    )


class _ChannelsFirst(nn.Module):
    def __init__(self, channels_last: bool) -> None:
        super().__init__()
        self.channels_last = channels_last

    def forward(self, x: th.Tensor) -> th.Tensor:
        return x.permute(0, 3, 1, 2) if self.channels_last else x


def embedding_network(space: spaces.Space, embedding_dim: int, hidden: int) -> nn.Module:
    """The network of every learned intrinsic reward (RND's target and predictor, the intrinsic critic, NovelD's
    RND, E3B's encoder): a preprocessed observation to ``embedding_dim`` values.

    A 3-d ``Box`` grid of at least :data:`rlfloor.networks.MIN_GRID_SIZE` cells a side (MiniGrid's 7x7x3,
    MinAtar's 10x10xC) goes through the package's one grid CNN, :func:`rlfloor.networks.grid_cnn`
    (rl-starter-files' trunk; channel order by SB3's rule, :func:`rlfloor.networks.grid_layout`), then
    ``Linear(hidden) - ReLU - Linear(embedding_dim)``. Anything else (vectors, discrete observations, grids too
    small for the CNN) is flattened into an MLP with two hidden layers of ``hidden`` units.
    """
    if isinstance(space, spaces.Box) and len(space.shape) == 3:
        try:
            first, channels, height, width = grid_layout(space)
        except ValueError:
            first = None  # too small for the grid CNN: flattened into the MLP below
        if first is not None:
            trunk = grid_cnn(channels)
            with th.no_grad():
                n_flat = int(trunk(th.zeros(1, channels, height, width)).shape[1])
            return nn.Sequential(
                _ChannelsFirst(not first), trunk, nn.Linear(n_flat, hidden), nn.ReLU(), nn.Linear(hidden, embedding_dim)
            )
    sample = preprocess_obs(th.as_tensor(np.asarray(space.sample())[None]), space)
    assert isinstance(sample, th.Tensor)
    n_in = int(sample.reshape(1, -1).shape[1])
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(n_in, hidden),
        nn.LeakyReLU(),
        nn.Linear(hidden, hidden),
        nn.LeakyReLU(),
        nn.Linear(hidden, embedding_dim),
    )


class RND:
    """Random Network Distillation novelty with its observation normalizer; picklable (saved with the model).

    :param observation_space: the environment's observation space (see :func:`check_rnd_space`).
    :param embedding_dim: output size of the target and predictor.
    :param hidden: hidden width of the MLP (and of the CNN head).
    :param learning_rate: Adam learning rate of the predictor (Burda et al.: 1e-4).
    :param epochs: passes of predictor training over each rollout.
    :param batch_size: minibatch size of predictor training; ``None``: one step on the whole batch per epoch.
    :param update_proportion: fraction of each minibatch used to train the predictor (Burda et al.
        use 0.25 with many environments, so the predictor does not learn faster than the policy).
    :param seed: seed of both networks' initialisation.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        embedding_dim: int = 64,
        hidden: int = 64,
        learning_rate: float = 1e-3,
        epochs: int = 1,
        batch_size: int | None = 256,
        update_proportion: float = 1.0,
        seed: int = 0,
    ) -> None:
        check_rnd_space(observation_space)
        self.observation_space = observation_space
        self.embedding_dim = check_int("embedding_dim", embedding_dim, 1)
        self.hidden = check_int("hidden", hidden, 1)
        self.learning_rate = check_number("learning_rate", learning_rate, 0.0, low_open=True)
        self.epochs = check_int("epochs", epochs, 1)
        self.batch_size = None if batch_size is None else check_int("batch_size", batch_size, 1)
        self.update_proportion = check_number("update_proportion", update_proportion, 0.0, 1.0, low_open=True)
        generator_state = th.random.get_rng_state()
        th.manual_seed(check_int("seed", seed, 0))
        self.target = embedding_network(observation_space, self.embedding_dim, self.hidden)
        self.predictor = embedding_network(observation_space, self.embedding_dim, self.hidden)
        th.random.set_rng_state(generator_state)  # leave the global torch stream as it was (reproducibility)
        self.target.requires_grad_(False)
        self.optimizer = th.optim.Adam(self.predictor.parameters(), lr=self.learning_rate)
        self.obs_rms: RunningMeanStd | None = None
        self._rng = np.random.default_rng(seed)

    def _normalized(self, obs: NDArray[np.generic]) -> th.Tensor:
        tensor = preprocess_obs(th.as_tensor(np.asarray(obs)), self.observation_space)
        assert isinstance(tensor, th.Tensor)
        if self.obs_rms is None:
            self.obs_rms = RunningMeanStd(shape=tuple(tensor.shape[1:]))
        mean = th.as_tensor(self.obs_rms.mean, dtype=th.float32)
        std = th.as_tensor(np.sqrt(self.obs_rms.var + 1e-8), dtype=th.float32)
        return ((tensor - mean) / std).clamp(-OBS_CLIP, OBS_CLIP)

    def update_normalizer(self, obs: NDArray[np.generic]) -> None:
        """Add a batch of observations to the running mean and standard deviation."""
        tensor = preprocess_obs(th.as_tensor(np.asarray(obs)), self.observation_space)
        assert isinstance(tensor, th.Tensor)
        if self.obs_rms is None:
            self.obs_rms = RunningMeanStd(shape=tuple(tensor.shape[1:]))
        self.obs_rms.update(tensor.numpy().astype(np.float64))

    def novelty(self, obs: NDArray[np.generic]) -> NDArray[np.float64]:
        """Prediction error of each observation (no training)."""
        with th.no_grad():
            x = self._normalized(obs)
            error = (self.predictor(x) - self.target(x)).pow(2).mean(dim=1)
        return error.numpy().astype(np.float64)

    def train(self, obs: NDArray[np.generic]) -> float:
        """Train the predictor on a batch of observations; return the mean loss of the last epoch."""
        x = self._normalized(obs)
        with th.no_grad():
            target = self.target(x)
        n = len(x)
        losses: list[float] = []
        for _ in range(self.epochs):
            losses = []
            order = self._rng.permutation(n)
            size = n if self.batch_size is None else self.batch_size
            for start in range(0, n, size):
                index = th.as_tensor(order[start : start + size])
                error = (self.predictor(x[index]) - target[index]).pow(2).mean(dim=1)
                if self.update_proportion < 1.0:
                    keep = th.as_tensor(self._rng.random(len(index)) < self.update_proportion, dtype=th.float32)
                    loss = (error * keep).sum() / keep.sum().clamp(min=1.0)
                else:
                    loss = error.mean()
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                losses.append(loss.item())
        return float(np.mean(losses))


__all__ = ["OBS_CLIP", "RND", "check_rnd_space", "embedding_network"]
