# octoscope: `make demo` and `make test` work on a fresh machine (they install what they need).
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
APT_PACKAGES := chromium influxdb victoria-metrics faketime systemd mosquitto postgresql-15

.PHONY: setup demo test test-clocks lint bench clean

# The suite again with the machine's clock moved (libfaketime, as UTC): a spring-forward night, an autumn
# fall-back night and a leap day, all a year or more from today. Nothing may depend on the date it runs on.
# (A fourth run at two years from today no longer fits CI's 25 minutes beside the PostgreSQL suite; any date
# can be given: make test-clocks CLOCK_DATES='"2029-01-01 00:10:00"'.)
CLOCK_DATES ?= "2027-03-28 00:45:00" "2027-10-31 01:15:00" "2028-02-29 12:00:00"
# What touches time and the machine's date: the clock, the domain's days, the store, sync, the CLI and the demo,
# the web app and its scheduler, live, the export files and the push after a sync. Run once, on the real clock:
# the browser tests, the simulator's contract tests, the Octopus clients' unit tests (their own fake clocks),
# the InfluxDB round trips and the tariff comparison (frozen instants, and the slowest), packaging.
CLOCK_TESTS ?= tests/test_clock.py tests/domain tests/store tests/sync tests/live tests/test_cli.py \
	tests/test_costs_cli.py tests/test_cheapest_cli.py tests/test_sessions_cli.py tests/test_live_cli.py \
	tests/services/test_costing.py tests/services/test_pricing.py tests/services/test_doctor.py tests/outputs/test_files.py \
	tests/outputs/test_cursors.py tests/outputs/test_sync_push.py tests/web/test_api_costs.py \
	tests/web/test_api_dashboard.py tests/web/test_api_dispatches.py tests/web/test_api_live.py \
	tests/web/test_api_prices.py tests/web/test_auth_pages.py tests/web/test_demo_dashboard.py \
	tests/web/test_metrics.py tests/services/test_scheduler.py

setup:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --frozen --quiet
	@if [ -n "$(APT_PACKAGES)" ]; then \
		missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
		if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi; \
	fi

demo: setup
	@$(UV) run octoscope demo

# Two workers (pytest-xdist): the tests mostly wait on sockets, child processes and the browser, and the
# whole run must stay within CI's 25 minutes on 2 cores.
test: setup lint
	@$(UV) run pytest -q -n 2
	@$(MAKE) --no-print-directory test-clocks

# The dates at once (the runs mostly wait on sockets and child processes), each in its own temporary folder;
# the logs are printed in order once all are done, and any failure fails the target. Copying and backing up a
# store are left to the normal run: they only stamp the time, and the moved runs must fit CI's 25 minutes.
test-clocks: setup
	@out=$$(mktemp -d); i=0; \
	for when in $(CLOCK_DATES); do \
		i=$$((i + 1)); \
		( echo "== the machine's clock at $$when UTC"; \
		  TZ=UTC faketime "$$when" .venv/bin/pytest -q -p no:cacheprovider -m "not postgres" \
		    --ignore=tests/store/test_copy.py --ignore=tests/store/test_backup.py --basetemp="$$out/tmp$$i" $(CLOCK_TESTS); \
		  echo $$? > "$$out/$$i.rc" ) > "$$out/$$i.log" 2>&1 & \
	done; wait; \
	failed=0; for n in $$(seq 1 $$i); do cat "$$out/$$n.log"; [ "$$(cat "$$out/$$n.rc")" = 0 ] || failed=1; done; \
	rm -rf "$$out"; exit $$failed

lint: setup
	@$(UV) run ruff check
	@$(UV) run ruff format --check --quiet
	@$(UV) run mypy
	@out=$$($(UV) run lint-imports --no-cache 2>&1) || { echo "$$out"; exit 1; }  # ARCHITECTURE.md's import rules

bench: setup
	@for b in bench/*.py; do $(UV) run python $$b; done

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache test-artifacts
