# Every target creates .venv itself. torch==2.13.0 is installed before anything that
# depends on torch: unpinned, pip would pull the newest torch with GBs of CUDA packages. Everything else is
# installed at the versions of the committed lock (requirements.lock; docs/harness/provenance.md).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv test test-slow lint check bench compare clean

venv: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -c requirements.lock -e ".[all,dev]"
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m mypy scripts

# Everything CI checks: lint (ruff, formatting, mypy) and the default test suite.
check: lint test

compare: $(STAMP)
	$(PY) scripts/compare.py

bench: $(STAMP)
	$(PY) scripts/bench_policy.py
	$(PY) scripts/bench_envs.py
	$(PY) scripts/bench_metrics.py
	$(PY) scripts/bench_ray.py
	$(PY) scripts/bench_intrinsic.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
