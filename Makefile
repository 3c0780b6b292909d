# Two entry points: `make demo` and `make test`. Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
# the CPU build; an unpinned torch pulls several GB of CUDA packages
TORCH := torch==2.13.0

.PHONY: demo test lint bench docs flagship clean

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

# The flagship bundle rebuilt from scratch: seeded samples (~25 min on 2 free cores; finished
# blocks are reused), the experiment's published detector emulation and its network; then what
# differs from the committed artefacts (cards also record this machine's onnxruntime version).
FLAGSHIP := analyses/DEMO_MULTIB_GLUINO
SAMPLES := build/demo_multib
flagship: $(VENV)/.dev
	$(PY) -m recast.reference.samples --what all --out $(SAMPLES) --seed 1 --workers 2
	$(PY) -m recast.reference.publish_detector --samples $(SAMPLES) --out $(FLAGSHIP)
	$(PY) $(FLAGSHIP)/make_artefacts.py --samples $(SAMPLES) --out $(FLAGSHIP)
	git status --short -- $(FLAGSHIP)

clean:
	rm -rf $(VENV) build dist site .pytest_cache
