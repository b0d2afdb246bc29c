"""IAM v1: service accounts, their keys, and the IAM policies shared with Resource Manager."""
