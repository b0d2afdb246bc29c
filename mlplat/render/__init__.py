"""Pure rendering: spec → desired API bodies and hydrated manifests. No I/O."""
