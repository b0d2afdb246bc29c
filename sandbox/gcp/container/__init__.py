"""Container v1 (GKE): clusters and node pools, their operations, and the pure model behind
them (naming, defaults, validation, updates, operation rules)."""
