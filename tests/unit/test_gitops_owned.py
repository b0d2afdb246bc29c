"""Which files of an environment branch mlplat owns (rewrites and deletes)."""

from __future__ import annotations

import pytest

from mlplat.converge.gitops import owned_by

OWNED = owned_by({"vision", "nlp"})


@pytest.mark.parametrize(
    ("path", "owned"),
    [
        ("README.md", True),
        ("manifests/clusters/teams/vision.yaml", True),
        ("manifests/clusters/anything-added-by-hand.yaml", True),
        ("manifests/apps/vision/raycluster.yaml", True),
        ("manifests/apps/vision/notebook.yaml", True),
        ("manifests/apps/vision/README.md", True),
        ("manifests/apps/vision/training-job.yaml", False),  # the team's own software
        ("manifests/apps/vision/jobs/nightly.yaml", False),
        ("manifests/apps/gone/training-job.yaml", True),  # a team no longer here
        ("docs/notes.md", False),
    ],
)
def test_owned_files(path: str, owned: bool) -> None:
    assert OWNED(path) is owned


def test_teardown_owns_every_team_folder() -> None:
    assert owned_by(())("manifests/apps/vision/training-job.yaml")
