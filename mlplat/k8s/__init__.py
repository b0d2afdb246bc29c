"""Adapters for the clusters' Kubernetes APIs, reached through the Connect Gateway of each
cluster's fleet membership (the clusters have private endpoints only)."""
