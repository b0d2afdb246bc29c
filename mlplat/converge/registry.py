"""The managed kinds the generic walks know: each kind's descriptor with its binding. A new
kind is one `register` call (a test may add one for its own run, then `unregister` it)."""

from __future__ import annotations

from dataclasses import dataclass

from mlplat.converge import bindings
from mlplat.converge.bindings import Binding
from mlplat.kinds import catalog
from mlplat.kinds.descriptor import Descriptor


@dataclass(frozen=True)
class ManagedKind:
    """A kind's pure descriptor and the adapter calls that reach it."""

    descriptor: Descriptor
    binding: Binding

    @property
    def kind(self) -> str:
        return self.descriptor.kind


_KINDS: dict[str, ManagedKind] = {}


def register(managed: ManagedKind) -> ManagedKind:
    """Add (or replace) a kind; returns it."""
    _KINDS[managed.kind] = managed
    return managed


def unregister(kind: str) -> None:
    _KINDS.pop(kind, None)


def managed(kind: str) -> ManagedKind:
    """The registered kind; ValueError for a kind mlplat cannot reach."""
    found = _KINDS.get(kind)
    if found is None:
        raise ValueError(f"no binding for kind {kind}")
    return found


def descriptors(kinds: list[str] | tuple[str, ...]) -> list[Descriptor]:
    return [managed(kind).descriptor for kind in kinds]


for _descriptor, _binding in (
    (catalog.BILLING, bindings.BILLING),
    (catalog.FEATURE, bindings.FEATURE),
    (catalog.NETWORK, bindings.NETWORK),
    (catalog.RESERVATION, bindings.RESERVATION),
    (catalog.SUBNETWORK, bindings.SUBNETWORK),
    (catalog.ROUTER, bindings.ROUTER),
    (catalog.CLUSTER, bindings.CLUSTER),
    (catalog.NODE_POOL, bindings.NODE_POOL),
    (catalog.MEMBERSHIP, bindings.MEMBERSHIP),
    (catalog.SERVICE_ACCOUNT, bindings.SERVICE_ACCOUNT),
    (catalog.NAMESPACE, bindings.NAMESPACE),
    (catalog.ROLE_BINDING, bindings.ROLE_BINDING),
):
    register(ManagedKind(_descriptor, _binding))
