"""Adapters for the GitOps repository on GitHub (PyGithub): repository, branches, protection,
and one commit per change of the hydrated manifests."""
