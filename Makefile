# Bootstraps uv and the virtualenv from a fresh machine, then runs mlplat or its tests.
SHELL := /bin/bash
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
export PREFECT_SERVER_ANALYTICS_ENABLED := false
UV := python3 -m uv

.PHONY: up test lint typecheck contracts unit bootstrap clean

bootstrap: .venv/.synced

.venv/.synced: pyproject.toml uv.lock
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --frozen --python python3.11
	@touch $@

## up: the main job: provision the reference platform on the sandbox (started if needed)
up: bootstrap
	$(UV) run --frozen mlplat up --approve

## test: every quality gate and the whole test suite (what CI runs)
test: lint typecheck contracts unit

lint: bootstrap
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

typecheck: bootstrap
	$(UV) run --frozen mypy mlplat mlplat_cli tasks flows

contracts: bootstrap
	$(UV) run --frozen lint-imports

# Three workers, a test module to each at a time (module fixtures start once): most tests wait
# on the sandbox's or Prefect's clocks, so three overlap well even on two cores (measured on
# this machine: 568 s with three, 622 s with two).
unit: bootstrap
	$(UV) run --frozen pytest -n 3 --dist loadscope

clean:
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
