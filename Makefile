# doublet — developer entry points. Everything runs in a local virtual environment (.venv).
VENV   ?= .venv
PY     := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: setup demo test bench first-hour clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e '.[serve,test,bench,spark]'
	touch $@

# the core alone (no extras): enough for the demo and for find/dedup/compare/report/index/eval
$(VENV)/.core: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e .
	touch $@

setup: $(VENV)/.installed  ## create .venv and install doublet with serve, test, bench and spark extras

demo: $(VENV)/.core  ## install doublet (core only) and run `doublet find` on the two bundled seed documents
	$(VENV)/bin/doublet find examples/seeds -o out/seeds
	@echo "--- out/seeds/pairs.jsonl"; cat out/seeds/pairs.jsonl
	@echo "--- the CLI is $(VENV)/bin/doublet (or: source $(VENV)/bin/activate); the tour is in README.md"

test: setup  ## the full test suite (what CI runs)
	$(PY) -m pytest -q

bench: setup  ## quality on dev-reuters and Clough & Stevenson, beside the datasketch baseline
	$(PY) bench/quality.py

first-hour:  ## the README's quick start and tour on a fresh clone in a fresh venv (bench/first_hour.sh)
	bash bench/first_hour.sh $${SCRATCH:-/tmp/doublet-first-hour}

clean:
	rm -rf out .pytest_cache .hypothesis
