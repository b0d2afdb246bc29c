"""What each kind mlplat manages is, declared once (pure: no client is imported here).

`descriptor.Descriptor` holds a kind's data; `catalog` declares every kind from the project to
a team's space. The adapter calls of each kind are bound in `mlplat.converge.bindings`."""
