# The README's two commands:
#   make all    set up .venv, fetch the data, run every question, write results/REPORT.md
#   make test   set up (or reuse) .venv and run the tests
# QUICK=1 make all runs the whole chain in smoke mode.
PYTHON_SYS ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: all test venv data clean-results

all: venv data
	PYTHON=$(PY) bash scripts/run_all.sh

test: $(VENV)/.dev-installed
	$(PY) -m pytest -q tests

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON_SYS) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

data: venv
	PYTHON=$(PY) bash scripts/get_data.sh

clean-results:
	rm -rf results/q* results/REPORT.md
