# The course's two entry points: `make lab` and `make test`. Both set up .venv from nothing and
# skip reinstalling while .venv is newer than the requirements. `make lab` installs what a student
# needs (requirements.txt); `make test` adds the developers' tools (requirements-dev.txt, d2l).
VENV   := .venv
PY     := $(VENV)/bin/python
LAB_STAMP := $(VENV)/.installed-lab
STAMP  := $(VENV)/.installed-dev
PYTHON ?= python3
# Extra arguments for JupyterLab, e.g. make lab LAB_ARGS="--no-browser --port 8890"
LAB_ARGS ?=
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root)
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
# Tests run in parallel, one worker per core (pytest-xdist; JOBS=1 for one at a time), each notebook whole in
# one worker, one thread each: at the mini world's 32 px a training step takes as long on one thread as
# on two, so two notebooks side by side do more work (docs/test-time.md). --durations shows where each
# run's time went.
PARALLEL := -n $(or $(JOBS),auto) --dist loadfile --durations=20
ONE_THREAD := OMP_NUM_THREADS=1

.PHONY: setup setup-lab browser lab test test-quick test-unit test-notebooks test-portable spread notebooks course \
	bench rehearse lint clean

setup-lab: $(LAB_STAMP)
setup: $(STAMP)

$(LAB_STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --editable .
	touch $(LAB_STAMP)

$(STAMP): $(LAB_STAMP) requirements-dev.txt requirements-nodeps.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	touch $(STAMP)

# Debian's Chromium for the browser test in tests/test_lab.py, installed with the system package manager when missing.
# Where that is impossible (not root, no sudo), the browser test skips and says why.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO=sudo; else \
	    echo "Chromium is missing and cannot be installed without root: the browser test will skip."; exit 0; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null \
	    || echo "Installing Chromium failed: the browser test will skip."; }

lab: setup-lab
	cd notebooks && ../$(VENV)/bin/jupyter lab 01_hotdog_data.ipynb $(ROOT_ARGS) $(LAB_ARGS)

# Tests run offline in the generated mini world; notebooks are compared cell by cell (strict nbval).
test: setup browser
	D2LFT_WORLD=mini $(ONE_THREAD) $(PY) -m pytest notebooks tests tools $(NBVAL) $(PARALLEL)

test-unit: setup browser
	D2LFT_WORLD=mini $(ONE_THREAD) $(PY) -m pytest tests tools $(PARALLEL)

# A developer's loop: the unit tests without the slow ones (browser, JupyterLab, torchrun, benchmark,
# notebook kernels: marked `slow`).
test-quick: setup
	D2LFT_WORLD=mini $(PY) -m pytest tests tools -m "not slow"

test-notebooks: setup
	D2LFT_WORLD=mini $(ONE_THREAD) $(PY) -m pytest notebooks $(NBVAL) $(PARALLEL)

# The notebooks as a student's laptop runs them: ATen and oneDNN capped to AVX2 (no AVX-512), the fast
# path in fp32, and another seed. Still strict nbval: what differs is masked, the lessons are asserts.
PORTABLE := ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 D2LFT_PRECISION=fp32 D2LFT_SEED=$(or $(SEED),1)
test-portable: setup
	D2LFT_WORLD=mini $(PORTABLE) $(ONE_THREAD) $(PY) -m pytest notebooks $(NBVAL) $(PARALLEL)

# Every notebook assert over seeds x numeric paths: writes docs/spread.md (SPREAD_ARGS="--seeds 0 1").
spread: setup-lab
	$(PY) -m tools.spread $(SPREAD_ARGS)

# Re-execute every notebook top to bottom in a fresh kernel and save it with its outputs.
notebooks: setup-lab
	D2LFT_WORLD=mini $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=1200 notebooks/[0-9]*.ipynb notebooks/solutions/*.ipynb

# A teacher's reference run in the active world: executed notebooks, HTML pages and a results summary in build/.
course: setup-lab
	$(PY) -m tools.course

# The real hotdog world rehearsed offline: stand-in hotdog.zip and ResNet-18 weights served from 127.0.0.1,
# every notebook run through the real download and weights code into build/rehearsal/
# (REHEARSE_ARGS="--per-class 100 40 --notebooks 03_" for a smaller or partial rehearsal; "--serve" for JupyterLab).
rehearse: setup-lab
	$(PY) -m tools.rehearsal $(REHEARSE_ARGS)

# The book's d2l.train_ch13 against d2lft's fast path, side by side (README: Performance); then the book's
# recipe against the laptop recipe, time to the same validation accuracy (TTA_ARGS="--seeds 0 1 2").
bench: setup
	$(PY) -m tools.bench $(BENCH_ARGS)
	$(PY) -m tools.time_to_accuracy $(TTA_ARGS)

lint: setup
	$(VENV)/bin/ruff check d2lft tests tools notebooks conftest.py
	$(VENV)/bin/ruff format --check d2lft tests tools conftest.py

clean:
	rm -rf $(VENV) build data/mini-hotdog data/checkpoints
