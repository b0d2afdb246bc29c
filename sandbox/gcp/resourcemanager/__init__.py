"""Resource Manager: projects (the state every API checks), v3 and v1, and project IAM
policies."""
