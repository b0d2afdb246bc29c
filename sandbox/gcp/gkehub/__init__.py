"""GKE Hub (Fleet): memberships, features and their per-membership states."""
