"""Model families. Each builder returns a `Network`: inputs, outputs and one `Probe` per kernel layer."""

from tfbench.models.network import Network, Probe, build_network

__all__ = ["Network", "Probe", "build_network"]
