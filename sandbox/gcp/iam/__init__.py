"""IAM v1: service accounts, their keys, and the IAM policies shared with Resource Manager
(whose project policy endpoints, `projects/P:getIamPolicy` and the rest, live here too)."""
