# One command each: `make train`, `make test`. Everything installs into .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= dev,atari,mujoco,tensorboard
PIP := $(PY) -m pip install --constraint constraints.txt
# Test selection: everything except `slow` (long learning runs). Override: make test MARKERS=""
MARKERS ?= not slow
PYTEST_ARGS ?= -n auto --dist worksteal

.PHONY: install test test-all lint format bench train clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first, pinned, so no dependency can resolve to another (CUDA) build.
	$(PIP) torch==2.13.0
	$(PIP) -e ".[$(EXTRAS)]"
	touch $@

test: install
	$(PY) -m pytest $(PYTEST_ARGS) -m "$(MARKERS)"

test-all: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check rlpyt tests benchmarks examples experiments
	$(VENV)/bin/ruff format --check rlpyt tests benchmarks examples experiments

format: install
	$(VENV)/bin/ruff format rlpyt tests benchmarks examples experiments
	$(VENV)/bin/ruff check --fix rlpyt tests benchmarks examples experiments

bench: install
	$(PY) benchmarks/bench_data_kernel.py
	$(PY) benchmarks/bench_pg_cartpole.py
	# Sampling throughput, Pong and HalfCheetah; small budget (full run: drop the arguments).
	$(PY) benchmarks/bench_samplers.py --steps 4096 --repeats 1

# PPO on CartPole-v1 to a solved policy (~1 minute on 2 cores); prints where the logs are.
train: install
	$(PY) examples/example_ppo_cartpole.py $(TRAIN_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build *.egg-info
