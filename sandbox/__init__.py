"""The sandbox: a local cloud speaking the wire protocols of Google APIs, Kubernetes and GitHub.

It never imports mlplat: it is a cloud, not a part of the tool.
"""
