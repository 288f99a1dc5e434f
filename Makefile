PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test test-min lint typecheck pytest docs notebooks bench bench-full clean

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

# Two workers on the 2-core CI machine (more where there are more cores, at most four):
# the suite takes about 5 minutes there instead of 6 and a half.
pytest: $(STAMP)
	$(PY) -m pytest -q -n auto --maxprocesses 4

test: lint typecheck pytest

# test-min runs the same pytest in a separate venv holding the oldest jax, jaxlib and numpy
# that pyproject.toml allows: each `name>=X` in [project] dependencies becomes `name==X` in a
# constraints file, so installing the dev and docs extras cannot upgrade them.
VENV_MIN := .venv-min
PY_MIN := $(VENV_MIN)/bin/python
MIN_STAMP := $(VENV_MIN)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

define MIN_PINS_PY
import tomllib
for dep in tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]:
    name, sep, version = dep.partition(">=")
    if not sep or "," in version or ";" in version:
        raise SystemExit(f"test-min: need a plain 'name>=version' lower bound, got {dep!r}")
    print(f"{name.strip()}=={version.strip()}")
endef
export MIN_PINS_PY

$(MIN_STAMP): pyproject.toml
	test -x $(PY_MIN) || $(PYTHON) -m venv $(VENV_MIN)
	$(PY_MIN) -c "$$MIN_PINS_PY" > $(VENV_MIN)/constraints.txt
	cat $(VENV_MIN)/constraints.txt
	$(PY_MIN) -m pip install -q --upgrade pip
	$(PY_MIN) -m pip install -q -c $(VENV_MIN)/constraints.txt -e '.[dev,docs]'
	$(PY_MIN) -m pip check
	touch $(MIN_STAMP)

test-min: $(MIN_STAMP)
	$(PY_MIN) -m pip list 2>/dev/null | grep -E '^(jax|jaxlib|numpy) '
	$(PY_MIN) -m pytest -q -n auto --maxprocesses 4

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
	$(PY) benchmarks/init.py --quick

bench-full: $(VENV)/.bench-installed
	$(PY) benchmarks/run.py
	$(PY) benchmarks/cifar10_step.py
	$(PY) benchmarks/seq2seq_step.py
	$(PY) benchmarks/lifted.py
	$(PY) benchmarks/init.py

clean:
	rm -rf $(VENV) $(VENV_MIN) .pytest_cache .ruff_cache .hypothesis
