"""Named agent presets built from rlfloor and Stable-Baselines3 (see :mod:`agents.presets`)."""

from agents.presets import (
    PRESETS,
    AgentSpec,
    build_agent,
    exploration_callbacks,
    get_agent,
    load_presets,
)

__all__ = [
    "PRESETS",
    "AgentSpec",
    "build_agent",
    "exploration_callbacks",
    "get_agent",
    "load_presets",
]
