"""`baodan sim`: a local server that plays each platform's open API through the adapters' server side
(signature checks, order list/detail, write-backs, stock), generates live sessions and pushes signed
webhooks. `Simulator` runs it in a background thread for tests and scripts."""

from baodan.sim.config import SimConfig, load_config
from baodan.sim.runner import Simulator

__all__ = ["SimConfig", "Simulator", "load_config"]
