"""A local GitHub: the REST subset PyGithub uses, and git smart HTTP, over bare repositories."""

from sandbox.github.accounts import Account, SeedUser
from sandbox.github.component import ADMIN_LOGIN, ADMIN_TOKEN, DEFAULT_ORG, GitHub

__all__ = ["ADMIN_LOGIN", "ADMIN_TOKEN", "DEFAULT_ORG", "Account", "GitHub", "SeedUser"]
