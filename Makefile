# Two entry points: `make demo` and `make test`. Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
# the CPU build; an unpinned torch pulls several GB of CUDA packages
TORCH := torch==2.13.0

.PHONY: demo test lint bench docs flagship closure clean

# what ruff checks; mypy checks the packages (recast, the reference experiment)
CODE := recast reference_experiment tests benchmarks studies docs/tools

$(VENV)/.core: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -e '.[gen,plot]'
	touch $@

$(VENV)/.dev: $(VENV)/.core
	$(PIP) install $(TORCH)
	$(PIP) install -e '.[gen,plot,train,trees,test,docs]'
	touch $@

demo: $(VENV)/.core
	$(PY) -m recast.demo

test: $(VENV)/.dev
	$(PY) -m ruff check $(CODE)
	$(PY) -m mypy recast reference_experiment
	$(PY) -m pytest -q

lint: $(VENV)/.dev
	$(PY) -m ruff check $(CODE)
	$(PY) -m ruff format --check $(CODE)
	$(PY) -m mypy recast reference_experiment

bench: $(VENV)/.dev
	for f in benchmarks/bench_*.py; do $(PY) $$f || exit 1; done

docs: $(VENV)/.dev
	$(VENV)/bin/mkdocs build --strict

# The flagship bundle rebuilt from scratch: seeded samples (~50 min on 2 free cores; finished
# blocks are reused), the experiment's published detector emulation, its network and its
# published results (cutflows, background, pseudo-data, likelihood); then what differs from
# the committed artefacts (cards also record this machine's onnxruntime version).
FLAGSHIP := analyses/DEMO_MULTIB_GLUINO
SAMPLES := build/demo_multib
flagship: $(VENV)/.dev
	$(PY) -m reference_experiment.samples --what all --out $(SAMPLES) --seed 1 --workers 2
	$(PY) -m reference_experiment.publish_detector --samples $(SAMPLES) --out $(FLAGSHIP)
	$(PY) -m reference_experiment.publish_network --samples $(SAMPLES) --out $(FLAGSHIP)
	# the detector files just written may differ from the committed ones (their provenance
	# text, this machine's onnxruntime): record their digests before the results load the bundle
	$(VENV)/bin/recast bundle stamp $(FLAGSHIP) --artefacts
	$(PY) -m reference_experiment.publish_results --samples $(SAMPLES) --out $(FLAGSHIP)
	$(VENV)/bin/recast bundle check $(FLAGSHIP)
	git status --short -- $(FLAGSHIP)

# The closure of the recast against the official result on every held-out and scan point:
# yields and cutflows, then CLs and the exclusion contours (docs/figures/flagship_exclusion.png)
closure: $(VENV)/.dev
	$(PY) -m reference_experiment.closure_yields --samples $(SAMPLES) --out $(SAMPLES)/closure.json
	$(PY) -m reference_experiment.closure_limits --closure $(SAMPLES)/closure.json \
		--out $(SAMPLES)/closure_limits.json --figure docs/figures/flagship_exclusion.png

clean:
	rm -rf $(VENV) build dist site .pytest_cache
