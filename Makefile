# waitcast — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= .waitcast/data
HISTORY_START ?= 2023-01-02
SEED   ?= 42
export WAITCAST_REGISTRY ?= .waitcast/registry

.PHONY: run test lint bench browser redis default-data default-model port-free clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# The built-in default: simulated Hangzhou ticket logs ending yesterday.
default-data: $(STAMP)
	@end=$$($(BIN)/python -c "import datetime as d; print(d.date.today() - d.timedelta(days=1))"); \
	if [ ! -f $(DATA)/hangzhou-$$end.parquet ]; then \
		mkdir -p $(DATA); \
		echo "simulating Hangzhou ticket logs $(HISTORY_START) .. $$end"; \
		$(BIN)/waitcast simulate --start $(HISTORY_START) --end $$end --seed $(SEED) \
			--out $(DATA)/hangzhou-$$end.parquet; \
	fi

# Trains the default model when the registry has no current model, then serves.
default-model: $(STAMP)
	@if ! $(BIN)/waitcast models show current >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory default-data && \
		echo "training the default model on $(DATA)" && \
		$(BIN)/waitcast train $(DATA) ; \
	fi

HOST ?= 127.0.0.1
PORT ?= 8000
# A taken port is said in one line before minutes of training, not as an error after them.
port-free: $(STAMP)
	@$(BIN)/python -m cli.portcheck $(HOST) $(PORT)

run: port-free default-model
	@echo "serving waitcast on http://$(HOST):$(PORT)/ (API under /v1, docs at /docs)"
	WAITCAST_ENV=$${WAITCAST_ENV:-development} $(BIN)/waitcast serve --host $(HOST) --port $(PORT)

# Debian's Chromium (and a CJK font for readable screenshots) for the browser tests.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@dpkg -s chromium fonts-wqy-microhei >/dev/null 2>&1 || \
		{ $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium fonts-wqy-microhei; }

# Debian's redis-server: the tests of the Redis state store start their own on a free port.
redis:
	@command -v redis-server >/dev/null 2>&1 || \
		{ $(SUDO) apt-get update && $(SUDO) apt-get install -y redis-server; }

test: $(STAMP) browser redis
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist worksteal

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP)
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .waitcast
