# octoscope: `make demo` and `make test` work on a fresh machine (they install what they need).
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
APT_PACKAGES := chromium influxdb victoria-metrics systemd

.PHONY: setup demo test lint bench clean

setup:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --frozen --quiet
	@if [ -n "$(APT_PACKAGES)" ]; then \
		missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
		if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi; \
	fi

demo: setup
	@$(UV) run octoscope demo

test: setup lint
	@$(UV) run pytest -q

lint: setup
	@$(UV) run ruff check
	@$(UV) run ruff format --check --quiet
	@$(UV) run mypy

bench: setup
	@for b in bench/*.py; do $(UV) run python $$b; done

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache test-artifacts
