"""Container v1 `getServerConfig`: the versions and image types GKE offers in a location.

The answer comes from the table clusters are versioned by (`versions`), so a version
the server config lists is one a cluster can be created at, and the reverse.
"""

from __future__ import annotations

from typing import Any

from sandbox.api import Call, Handlers
from sandbox.gcp.container.operations import PROTO, location_of
from sandbox.gcp.container.versions import server_config

HANDLERS = Handlers("container.v1", proto=PROTO)


@HANDLERS("container.projects.locations.getServerConfig")
def get_server_config(call: Call) -> dict[str, Any]:
    location_of(call, call.params["name"])  # the project and the API must be usable
    return server_config()
