# Every target creates .venv itself. torch==2.13.0 is installed before anything that
# depends on torch: unpinned, pip would pull the newest torch with GBs of CUDA packages. Everything else is
# installed at the versions of the committed lock (requirements.lock; docs/harness/provenance.md).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv test test-slow lint docs check bench compare clean

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

# The documentation site (mkdocs.yml, docs/) into site/. --strict: a broken link, a missing anchor or page, a
# page left out of the nav or an unresolved API reference fails the build. (Not --quiet: it hides the warnings
# that --strict counts, and the build then passes with broken links.)
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

# Everything CI checks: lint (ruff, formatting, mypy), the docs build and the default test suite.
check: lint docs test

compare: $(STAMP)
	$(PY) scripts/compare.py

bench: $(STAMP)
	$(PY) scripts/bench_policy.py
	$(PY) scripts/bench_envs.py
	$(PY) scripts/bench_metrics.py
	$(PY) scripts/bench_ray.py
	$(PY) scripts/bench_intrinsic.py
	$(PY) scripts/bench_intrinsic.py --minigrid
	$(PY) scripts/bench_minigrid.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site
