# Two entry points: `make demo` and `make test`. Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
# the CPU build; an unpinned torch pulls several GB of CUDA packages
TORCH := torch==2.13.0

.PHONY: demo test lint bench docs clean

$(VENV)/.core: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -e '.[gen,plot]'
	touch $@

$(VENV)/.dev: $(VENV)/.core
	$(PIP) install $(TORCH)
	$(PIP) install -e '.[gen,plot,train,test,docs]'
	touch $@

demo: $(VENV)/.core
	$(PY) -m recast.demo

test: $(VENV)/.dev
	$(PY) -m ruff check recast tests benchmarks docs/tools
	$(PY) -m pytest -q

lint: $(VENV)/.dev
	$(PY) -m ruff check recast tests benchmarks docs/tools
	$(PY) -m ruff format --check recast tests benchmarks docs/tools

bench: $(VENV)/.dev
	for f in benchmarks/bench_*.py; do $(PY) $$f || exit 1; done

docs: $(VENV)/.dev
	$(VENV)/bin/mkdocs build --strict

clean:
	rm -rf $(VENV) build dist site .pytest_cache
