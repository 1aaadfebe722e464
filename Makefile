# The README names these targets; `make help` lists them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ASSETS := web/dist/.vite/manifest.json

.PHONY: help install run flask test bench chaos lock clean

help:
	@echo "make run    - start the whole app locally (Redis, emulators, web, worker, beat)"
	@echo "make test   - run the whole test suite"
	@echo "make bench  - run the webhook pipeline benchmark (options: BENCH_ARGS='--link-ms 0,50 --help')"
	@echo "make chaos  - the fault suite: crash parts of fresh stacks, count lost events (options: CHAOS_ARGS='--broker redis --help')"
	@echo "make flask ARGS='leases list' - an operator command against the running local app"
	@echo "make lock   - re-pin requirements.lock after changing pyproject.toml"

install: $(STAMP) $(ASSETS)

# The front end: npm ci from package-lock.json, then Vite builds hashed files into web/dist.
$(ASSETS): frontend/package-lock.json frontend/vite.config.js $(shell find frontend/src -type f 2>/dev/null)
	npm ci --prefix frontend --no-audit --no-fund
	npm run build --prefix frontend

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "Python 3.11 is required")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test]'
	touch $(STAMP)

run: install
	$(BIN)/python -m scripts.run_local

# .run/env holds every setting the run chose (those of .env included), so Flask need not
# look for .env itself: FLASK_SKIP_DOTENV stops its "install python-dotenv" tip.
flask: install
	@test -f .run/env || { echo "start the app first: make run"; exit 1; }
	@FLASK_SKIP_DOTENV=1 $(BIN)/honcho run -e .run/env $(BIN)/flask --app web $(ARGS)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m scripts.benchmark $(BENCH_ARGS)

chaos: install
	$(BIN)/python -m scripts.chaos $(CHAOS_ARGS)

lock:
	rm -rf /tmp/sev-lock && $(PYTHON) -m venv /tmp/sev-lock
	/tmp/sev-lock/bin/pip install --quiet '.[test]'
	/tmp/sev-lock/bin/pip freeze --exclude streamer-event-viewer > requirements.lock

clean:
	rm -rf $(VENV) .run .pytest_cache web/dist frontend/node_modules
