"""The branch's YAML is written by libyaml's emitter when present: it must write exactly what
PyYAML's own emitter writes (else an upgrade would show every file as drifted)."""

from __future__ import annotations

import yaml

from mlplat.render import repository
from mlplat.specs import load_spec
from tests.unit.spec_files import REFERENCE


def test_libyaml_writes_what_pyyaml_writes_for_every_rendered_file() -> None:
    spec = load_spec(REFERENCE)
    for env in spec.environments.values():
        documents = repository.environment_documents(
            spec, env, project="mlp-dev-a1b2", repo_url="https://github.com/o/r.git"
        )
        assert documents
        for path, docs in documents.items():
            python = yaml.dump_all(docs, Dumper=yaml.SafeDumper, sort_keys=False, width=100)
            written = repository.to_yaml(docs).removeprefix(repository.HEADER)
            assert written == python, path
            assert list(yaml.safe_load_all(written)) == docs, path
