"""The access check's expectations: what each role may do at home, and that the number of
checks grows with the teams, not with their square."""

from __future__ import annotations

from collections import Counter

from mlplat import access
from mlplat.specs import Team, load_spec
from tests.unit.spec_files import REFERENCE


def _teams(count: int) -> list[Team]:
    vision = load_spec(REFERENCE).teams["vision"]
    return [
        vision.model_copy(update={"name": f"t{i:03d}", "namespace": f"t{i:03d}"})
        for i in range(count)
    ]


def test_each_team_probes_its_next_two_neighbours_wrapping_round() -> None:
    teams = _teams(5)
    probed = {
        team.name: sorted(
            {
                e.namespace
                for e in access.expectations(team, [t for t in teams if t is not team])
                if e.namespace and e.namespace != team.namespace_name
            }
        )
        for team in teams
    }
    assert probed["t000"] == ["t001", "t002"]
    assert probed["t004"] == ["t000", "t001"]
    # every namespace is probed by someone
    assert Counter(ns for spaces in probed.values() for ns in spaces) == dict.fromkeys(probed, 2)


def test_checks_per_team_do_not_grow_with_the_number_of_teams() -> None:
    few, many = _teams(3), _teams(100)
    assert len(list(access.expectations(few[0], few[1:]))) == len(
        list(access.expectations(many[0], many[1:]))
    )


def test_denied_cluster_wide_includes_listing_pods() -> None:
    team = _teams(1)[0]
    cluster_wide = {(e.verb, e.resource) for e in access.expectations(team, []) if not e.namespace}
    assert ("list", "pods") in cluster_wide
    assert all(not e.allowed for e in access.expectations(team, []) if not e.namespace)
