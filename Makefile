# Two entry points (see README): `make demo` and `make test`. Both create or reuse .venv.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml | sha1sum | cut -c1-12)

.PHONY: setup demo test test-all lint services backbone

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# The CPU build of torch lies on this machine's disk; pinning it first keeps pip from
	# pulling a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[backbone,dev]'
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP) backbone

backbone: $(STAMP)
	$(BIN)/qa-scoring backbone build

demo: setup
	$(BIN)/qa-scoring demo

services:
	bash scripts/services.sh

test: setup services
	$(BIN)/ruff check .
	bash scripts/pytest.sh -m "not slow"

test-all: setup services
	bash scripts/pytest.sh

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
