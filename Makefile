# The course's two entry points: `make lab` and `make test`. Both set up .venv from nothing and
# skip reinstalling while .venv is newer than the requirements.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTHON ?= python3
# Extra arguments for JupyterLab, e.g. make lab LAB_ARGS="--no-browser --port 8890"
LAB_ARGS ?=
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root)
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: setup lab test test-unit test-notebooks notebooks lint clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --editable .
	touch $(STAMP)

lab: setup
	cd notebooks && ../$(VENV)/bin/jupyter lab 01_hotdog_data.ipynb $(ROOT_ARGS) $(LAB_ARGS)

# Tests run offline in the generated mini world; notebooks are compared cell by cell (strict nbval).
test: setup
	D2LFT_WORLD=mini $(PY) -m pytest tests notebooks $(NBVAL)

test-unit: setup
	D2LFT_WORLD=mini $(PY) -m pytest tests

test-notebooks: setup
	D2LFT_WORLD=mini $(PY) -m pytest notebooks $(NBVAL)

# Re-execute every notebook top to bottom in a fresh kernel and save it with its outputs.
notebooks: setup
	D2LFT_WORLD=mini $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=1200 notebooks/[0-9]*.ipynb notebooks/solutions/*.ipynb

lint: setup
	$(VENV)/bin/ruff check d2lft tests notebooks
	$(VENV)/bin/ruff format --check d2lft tests

clean:
	rm -rf $(VENV) data/mini-*
