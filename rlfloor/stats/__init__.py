"""Pure functions over tensors and arrays behind the exploration metrics, testable without training.

* :mod:`rlfloor.stats.policy` -- entropy, probabilities, floor mass, KL of categorical and Gaussian policies;
* :mod:`rlfloor.stats.covariance` -- covariance of log-probability and advantage (Cui et al., 2025);
* :mod:`rlfloor.stats.coverage` -- bounded-memory state visit counts and their entropy;
* :mod:`rlfloor.stats.gradients` -- coherence of per-sample gradients.
"""

from rlfloor.stats.covariance import (
    grouped_logp_adv_cov,
    grouped_state_logp_adv_cov,
    logp_adv_cov,
    state_logp_adv_cov,
)
from rlfloor.stats.coverage import StateVisitCounter, n_observation_states
from rlfloor.stats.gradients import gradient_coherence
from rlfloor.stats.policy import (
    CategoricalBatch,
    GaussianBatch,
    PolicyBatch,
    action_std,
    concat_batches,
    gaussian_kl_divergence,
    gaussian_statistics,
    grouped_policy_statistics,
    kl_divergence,
    max_entropy,
    policy_statistics,
)

__all__ = [
    "CategoricalBatch",
    "GaussianBatch",
    "PolicyBatch",
    "StateVisitCounter",
    "action_std",
    "concat_batches",
    "gaussian_kl_divergence",
    "gaussian_statistics",
    "gradient_coherence",
    "grouped_logp_adv_cov",
    "grouped_policy_statistics",
    "grouped_state_logp_adv_cov",
    "kl_divergence",
    "logp_adv_cov",
    "max_entropy",
    "n_observation_states",
    "policy_statistics",
    "state_logp_adv_cov",
]
