"""The platform spec: models, loading with file/line errors, and cross-file checks."""

from mlplat.specs.loader import load_spec
from mlplat.specs.models import Environment, NodePool, Platform, Team
from mlplat.specs.platform_spec import PlatformSpec

__all__ = ["Environment", "NodePool", "Platform", "PlatformSpec", "Team", "load_spec"]
