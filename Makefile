# doublet — developer entry points. Everything runs in a local virtual environment (.venv).
VENV   ?= .venv
PY     := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: setup demo test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e '.[serve,test,bench,spark]'
	touch $@

setup: $(VENV)/.installed  ## create .venv and install doublet with serve, test, bench and spark extras

demo: setup  ## run `doublet find` on the two bundled seed documents
	$(VENV)/bin/doublet find examples/seeds -o out/seeds
	@echo "--- out/seeds/pairs.jsonl"; cat out/seeds/pairs.jsonl

test: setup  ## the full test suite (what CI runs)
	$(PY) -m pytest -q

bench: setup  ## quality on dev-reuters and Clough & Stevenson, beside the datasketch baseline
	$(PY) bench/quality.py

clean:
	rm -rf out .pytest_cache .hypothesis
