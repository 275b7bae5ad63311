# Convolutional Networks, hands-on. `make lab` opens the course; `make test` runs every test.
# Both create the virtual environment .venv on first use (Python 3.11, about 2 minutes):
# `make lab` installs what the notebooks need; the other targets add the `dev` extra (the
# course's tooling in course/, pytest, nbval, ruff, ...). `python -m course --help` lists the tools.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEV_STAMP := $(VENV)/.installed-dev-stamp
LINTED := helpers course tests scripts $(wildcard solutions notebooks)
NOTEBOOK_DIRS := $(wildcard solutions notebooks)
SLIDE_ASSETS := slides/node_modules/.installed-stamp
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)  # containers often run as root
export TQDM_DISABLE := 1
export PYTHONHASHSEED := 0

.PHONY: help setup lab rise-css progress update nbgrader test test-fast test-portable nbval lint format release release-check execute benchmark benchmark-conv slides clean

help:
	@echo "make lab        set up (first time) and open JupyterLab on notebooks/"
	@echo "make test       set up (first time) and run every test, nbval included"
	@echo "make test-portable   strict nbval of solutions/ with other CPU kernels and thread counts"
	@echo "make release    regenerate notebooks/ from solutions/ (never overwrites your work)"
	@echo "make execute NB=01_convolution   re-run one solution notebook in place, then release it"
	@echo "make progress   a table of every exercise and its verdict, from your saved notebooks (NB=03 for some)"
	@echo "make update     get the course's corrections and new exercises, keeping your answers (backups in notebooks/.backup/)"
	@echo "make nbgrader   write the nbgrader edition (a course folder) into build/nbgrader/"
	@echo "make benchmark  time every notebook (both editions); BENCHMARK_ARGS=--grading adds nbgrader autograde"
	@echo "make benchmark-conv   naive loop vs im2col vs PyTorch convolution timings"
	@echo "make format     ruff-format the code and the notebooks"
	@echo "make slides     build a reveal.js deck of every solution notebook (offline) into build/slides/"

setup: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 (or run make PYTHON=/path/to/python3.11)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the course into $(VENV) (torch is large: this takes a few minutes the first time)..."
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e . 2>&1 | grep -v "^WARNING: Location" || true
	@$(BIN)/python -c "import helpers, torch, torchvision, ipywidgets" || { echo "Installation failed: see the messages above"; exit 1; }
	@touch $(STAMP)

# the tooling and the tests: pyproject.toml's `dev` extra, on top of the course
$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev,grading]" 2>&1 | grep -v "^WARNING: Location" || true
	@$(BIN)/python -c "import course.release, nbval, pytest, hypothesis, nbgrader" || { echo "Installation failed: see the messages above"; exit 1; }
	@touch $(DEV_STAMP)

lab: $(STAMP) rise-css
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" \
		--LabApp.default_url=/lab/tree/notebooks $(ROOT_FLAG) \
		--ContentsManager.pre_save_hook=course.save_hook.strip_widget_state $(LAB_ARGS)

# RISE loads <notebook>.css from the notebook's folder (and rise.css, which is committed): an
# empty one per notebook, so that the slideshow logs no 404 (they are in .gitignore).
rise-css:
	@for notebook in $(wildcard solutions/[0-9][0-9]_*.ipynb notebooks/[0-9][0-9]_*.ipynb); do \
		css="$${notebook%.ipynb}.css"; [ -e "$$css" ] || \
		echo "/* RISE loads this file for $$(basename $$notebook): this notebook's slide styles. */" > "$$css"; \
	done

test: $(DEV_STAMP) $(SLIDE_ASSETS) release-check lint
	$(BIN)/python -m pytest -p no:cacheprovider tests $(NOTEBOOK_DIRS) $(NBVAL)

test-fast: $(DEV_STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider tests

# Stored outputs must reproduce on other CPUs: the same strict nbval with other kernels (no SIMD,
# AVX2) and thread counts (course/portable.py says how). NB=... limits it to some notebooks.
test-portable: $(DEV_STAMP)
	$(BIN)/python -m course portable $(or $(NB),solutions)

nbval: $(DEV_STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider $(NOTEBOOK_DIRS) $(NBVAL)

lint: $(DEV_STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

format: $(DEV_STAMP)
	$(BIN)/ruff format $(LINTED)

release: $(DEV_STAMP)
	$(BIN)/python -m course release $(RELEASE_ARGS)

# for students: runs their saved notebooks/ (never writes them) and lists every exercise's verdict
progress: $(STAMP)
	$(BIN)/python -m course progress $(NB)

# for students: the course's corrections and new exercises, with their answers carried over
update: $(STAMP)
	$(BIN)/python -m course update $(UPDATE_ARGS)

# the nbgrader edition of every notebook, from solutions/ (INSTRUCTORS.md, "Grading with nbgrader")
nbgrader: $(DEV_STAMP)
	$(BIN)/python -m course nbgrader $(NB)

release-check: $(DEV_STAMP)
	$(BIN)/python -m course release --check

execute: $(DEV_STAMP)
	@test -n "$(NB)" || { echo "usage: make execute NB=01_convolution"; exit 2; }
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m course execute $(NB)

benchmark: $(DEV_STAMP)
	$(BIN)/python -m course benchmark $(NB) $(BENCHMARK_ARGS)

benchmark-conv: $(STAMP)
	$(BIN)/python -m helpers.conv_timing

# reveal.js, MathJax, require.js and jQuery, pinned by slides/package-lock.json (slides/LICENSES.md)
$(SLIDE_ASSETS): slides/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix slides --ignore-scripts --no-audit --no-fund && touch $(SLIDE_ASSETS); \
	else \
		echo "npm not found: install Node.js and npm (Debian: apt-get install nodejs npm) to build"; \
		echo "the slide decks; until then make slides fails and their tests are skipped."; \
	fi

slides: $(DEV_STAMP) $(SLIDE_ASSETS)
	$(BIN)/python -m course slides $(NB)
	@echo "Open build/slides/index.html in a browser (works offline); press S in a deck for the speaker notes."

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache
