"""Resource Manager: projects (the state every API checks), v3 and v1. Its project IAM policy
methods are served from `sandbox.gcp.iam.project_policies`."""
