PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test lint typecheck pytest docs notebooks bench bench-full clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,docs]'
	touch $(STAMP)

# The demo needs only the examples extra, not the test and docs tools.
$(VENV)/.demo-installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[examples]'
	touch $@

demo: $(VENV)/.demo-installed
	$(PY) examples/cifar10/train.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/pyright

pytest: $(STAMP)
	$(PY) -m pytest -q

test: lint typecheck pytest

# pytest runs the notebooks in smoke mode; this runs them in full.
notebooks: $(STAMP)
	SCOPAX_SMOKE=0 $(PY) -m pytest -q --nbmake notebooks

docs: $(STAMP)
	$(PY) -m sphinx -W -b html docs docs/_build/html

$(VENV)/.bench-installed: $(STAMP)
	$(PY) -m pip install -q -e '.[dev,bench]'
	touch $@

bench: $(VENV)/.bench-installed
	$(PY) benchmarks/run.py --quick
	$(PY) benchmarks/cifar10_step.py --quick
	$(PY) benchmarks/seq2seq_step.py --quick

bench-full: $(VENV)/.bench-installed
	$(PY) benchmarks/run.py
	$(PY) benchmarks/cifar10_step.py
	$(PY) benchmarks/seq2seq_step.py
	$(PY) benchmarks/lifted.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
