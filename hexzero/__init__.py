"""hexzero: AlphaZero on Hex for studying how reinforcement learning scales."""

__version__ = "0.1.0"
