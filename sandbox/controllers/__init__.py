"""Simulated in-cluster controllers of the sandbox: Config Sync (RootSync/RepoSync from the
sandbox GitHub), Policy Controller (Gatekeeper admission and audit), KubeRay (operator and
RayClusters), ResourceQuota admission, and pod scheduling against the GKE node pools.

`Controllers(github)` is the sandbox component (`controllers`) running them; `Settings` holds
its intervals.
"""

from sandbox.controllers.component import Controllers
from sandbox.controllers.settings import Settings

__all__ = ["Controllers", "Settings"]
