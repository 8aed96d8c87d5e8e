# octoscope: `make demo` and `make test` work on a fresh machine (they install what they need).
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
APT_PACKAGES := chromium influxdb victoria-metrics faketime systemd mosquitto

.PHONY: setup demo test test-clocks lint bench clean

# The suite again with the machine's clock moved (libfaketime, as UTC): a spring-forward night, an autumn
# fall-back night, a leap day and two years from today. Nothing may depend on the date it runs on.
CLOCK_DATES ?= "2027-03-28 00:45:00" "2027-10-31 01:15:00" "2028-02-29 12:00:00" "$$(date -u -d '+2 years' '+%Y-%m-%d 12:00:00')"
# What touches time: the clock, the domain's days, sync, the CLI, the web app, live, exports and the demo.
# (The browser tests and the simulator's contract tests run once, on the real clock.)
CLOCK_TESTS ?= tests --ignore=tests/web/test_browser.py --ignore=tests/web/test_browser_live.py \
	--ignore=tests/web/test_browser_prices.py --ignore=tests/web/test_schemathesis.py --ignore=tests/simulator

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
	@$(MAKE) --no-print-directory test-clocks

test-clocks: setup
	@for when in $(CLOCK_DATES); do \
		echo "== the machine's clock at $$when UTC"; \
		TZ=UTC faketime "$$when" .venv/bin/pytest -q -p no:cacheprovider $(CLOCK_TESTS) || exit 1; \
	done

lint: setup
	@$(UV) run ruff check
	@$(UV) run ruff format --check --quiet
	@$(UV) run mypy

bench: setup
	@for b in bench/*.py; do $(UV) run python $$b; done

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache test-artifacts
