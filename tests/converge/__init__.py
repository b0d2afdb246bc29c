"""The converge layer called directly against an in-process sandbox, without Prefect."""
