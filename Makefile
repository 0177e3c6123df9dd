# Every target sets up .venv on first use (Python 3.11 + pip is all a machine needs).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

ARGS ?=

.PHONY: setup test test-fast paper paper-quick publish mlp mlp-100 circle torus saddles siren fourier pinn1d pinn2d \
	random-hessians index-loss compare compare-siren compare-fourier compare-pinn1d compare-pinn2d phase-map \
	mechanism escapes paths-toy digits-study landscape settings settings-siren settings-fourier settings-pinn1d widths real-data rounding compare-second-order bench gpu-sweep clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Two pytest workers: most of a test's time is single-threaded XLA compilation (TEST_WORKERS=0: one process;
# three workers on the 2-core VM measured no faster: 491 s against 485 s).
TEST_WORKERS ?= 2
test: $(STAMP)
	$(PY) -m pytest -q $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS))

# The numerical tests without the end-to-end tier (tests marked slow: real runs, subprocesses, kills).
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow" $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS))

mlp: $(STAMP)
	$(PY) -m jaxnewton run mlp_tanh --out results/mlp_tanh

mlp-100: $(STAMP)
	$(PY) -m jaxnewton run mlp_tanh --seeds 100 --out results/mlp_tanh_100

circle: $(STAMP)
	$(PY) -m jaxnewton run circle --out results/circle

torus: $(STAMP)
	$(PY) -m jaxnewton run torus --out results/torus

saddles: $(STAMP)
	$(PY) -m jaxnewton run saddles --out results/saddles

siren: $(STAMP)
	$(PY) -m jaxnewton run siren --out results/siren

fourier: $(STAMP)
	$(PY) -m jaxnewton run fourier --out results/fourier

pinn1d: $(STAMP)
	$(PY) -m jaxnewton run pinn1d --out results/pinn1d

# Newton and ADAM from the same initial points (the config sets optimizers=newton,adam).
pinn2d: $(STAMP)
	$(PY) -m jaxnewton compare pinn2d --optimizers newton,adam --out results/pinn2d

# E9: every registered optimiser (jaxnewton/optim/registry.py) from the same 16 initial points of E3.
compare: $(STAMP)
	$(PY) -m jaxnewton compare mlp_tanh --optimizers all --seeds 16 --out results/compare_mlp_tanh $(ARGS)

# The same comparison on E4-E7 (not part of make paper: each exact-Hessian optimiser costs what the experiment does).
compare-siren compare-fourier compare-pinn1d compare-pinn2d: compare-%: $(STAMP)
	$(PY) -m jaxnewton compare $* --optimizers all --seeds 16 --out results/compare_$* $(ARGS)

# The second-order family (optim.globalised) against damped Newton and BFGS on E3, 64 seeds (not part of make paper).
# Ends by copying its summary into docs/results/compare_second_order, which the report and the README read.
compare-second-order: $(STAMP)
	$(PY) -m jaxnewton run second_order --out results/compare_second_order $(ARGS)
	mkdir -p docs/results/compare_second_order && cp results/compare_second_order/summary.json \
		results/compare_second_order/comparison.png docs/results/compare_second_order/

# Damped Newton over a grid of (eta, eps) and over width on E3.
phase-map: $(STAMP)
	$(PY) -m jaxnewton run phase_map --out results/phase_map $(ARGS)

# Curvature condition and the true Hessian's smallest eigenvalue along BFGS / L-BFGS / L-BFGS-GSS runs on E3.
mechanism: $(STAMP)
	$(PY) -m jaxnewton run mechanism --out results/mechanism $(ARGS)

# Why quasi-Newton escapes (not part of make paper): BFGS from / reset to the exact Hessian, monotone Newton and the
# second-order family on E3, 64 seeds, every path's visits to the trivial point. Resumable per optimiser; ends by
# copying its summary, table and figures into docs/results/escapes, which the report and the README read.
escapes: $(STAMP)
	$(PY) -m jaxnewton run escapes --out results/escapes $(ARGS)
	mkdir -p docs/results/escapes && cp results/escapes/summary.json results/escapes/comparison.csv \
		results/escapes/paths.png docs/results/escapes/

# FourierPathFinder on the companion paper's 2-D toy landscape, and Newton from each path's top.
paths-toy: $(STAMP)
	$(PY) -m jaxnewton run paths_toy --out results/paths_toy $(ARGS)

# The companion paper's L-BFGS-GSS vs mini-batch SGD study on scikit-learn's 8x8 digits.
digits-study: $(STAMP)
	$(PY) -m jaxnewton run digits_study --out results/digits_study $(ARGS)

# Paths, saddle checks, symmetry and kernel PCA on E3's end points; reads results/compare_mlp_tanh (make compare).
landscape: $(STAMP)
	$(PY) -m jaxnewton run landscape --out results/landscape $(ARGS)

# E3-E6 over the readings of the paper's unstated settings (each config states its cost on 2 cores: E3 2.5 h for
# its one-factor cells plus 35-60 min for each pair at the 50 000-step cap, E4 20 min, E5 40 min, E6 25 min;
# resumable; not part of make paper). Each ends by copying its summary and figure into docs/results/<name>, which
# the report and the README read.
settings settings-siren settings-fourier settings-pinn1d: $(STAMP)
	$(PY) -m jaxnewton run $(subst -,_,$@) --out results/$(subst -,_,$@) $(ARGS)
	mkdir -p docs/results/$(subst -,_,$@) && cp results/$(subst -,_,$@)/summary.json \
		results/$(subst -,_,$@)/settings.png docs/results/$(subst -,_,$@)/
	$(PY) scripts/paper.py --readme-only

widths: $(STAMP)
	$(PY) -m jaxnewton run widths --out results/widths $(ARGS)
	mkdir -p docs/results/widths && cp results/widths/summary.json results/widths/widths.png docs/results/widths/
	test ! -f results/widths/paths.png || cp results/widths/paths.png docs/results/widths/
	$(PY) scripts/paper.py --readme-only

# The rounding ensemble (issue 44, row RR; not part of make paper: 30 minutes on 2 cores, configs/rounding.py).
rounding: $(STAMP)
	$(PY) -m jaxnewton run rounding --out results/rounding $(ARGS)
	mkdir -p docs/results/rounding && cp results/rounding/summary.json results/rounding/rounding.png docs/results/rounding/
	$(PY) scripts/paper.py --readme-only

# Real data with several outputs (issue 42; not part of make paper: hours of CPU, the cost per cell in its config).
real-data: $(STAMP)
	$(PY) -m jaxnewton run real_data --out results/real_data $(ARGS)
	mkdir -p docs/results/real_data && cp results/real_data/summary.json results/real_data/real_data.png \
		docs/results/real_data/
	$(PY) scripts/paper.py --readme-only

# E3 at 10⁵ seeds × 1 000 Newton steps, two batches of 50 000 (for a GPU: 282 s on an H200; scripts/gpu.sh runs it
# with the other GPU checks). Ends by copying its summary into docs/results/mlp_tanh_gpu, less the per-seed outcomes
# (2.4 MB at 10⁵ seeds; they stay in results/mlp_tanh_gpu/runs.csv).
gpu-sweep: $(STAMP)
	$(PY) -m jaxnewton run mlp_tanh --seeds 100000 --set max_steps=1000 --set seed_batch=50000 \
		--out results/mlp_tanh_gpu $(ARGS)
	mkdir -p docs/results/mlp_tanh_gpu && $(PY) -c "import json, sys; s = json.load(open(sys.argv[1])); \
		s.pop('outcomes', None); json.dump(s, open(sys.argv[2], 'w'), indent=1)" \
		results/mlp_tanh_gpu/summary.json docs/results/mlp_tanh_gpu/summary.json
	$(PY) scripts/paper.py --readme-only

random-hessians: $(STAMP)
	$(PY) -m jaxnewton run random_hessians --out results/random_hessians

# Reads the finished runs under results/ (circle, torus, mlp_tanh_100); reruns nothing.
index-loss: $(STAMP)
	$(PY) -m jaxnewton run index_loss --out results/index_loss

# Skips runs already complete for the same config; FORCE=1 reruns them. Writes under results/ only (the report is
# results/REPORT.md); make publish copies a run into docs/results and the README's table.
paper: $(STAMP)
	$(PY) scripts/paper.py $(if $(FORCE),--force) $(if $(STALE),--stale $(STALE))

paper-quick: $(STAMP)
	$(PY) scripts/paper.py --quick $(if $(FORCE),--force)

# Copies a complete make paper run (one clean commit) into docs/results and rewrites README.md's table: the only
# target that writes tracked files from results/ (make paper writes under results/ alone).
publish: $(STAMP)
	$(PY) scripts/paper.py --publish

bench: $(STAMP)
	$(PY) -m pip install --quiet -e ".[dev,bench]"
	$(PY) scripts/bench.py --out results/bench.json
	$(PY) scripts/bench.py --only user-model --out results/bench_user_model.json

clean:
	rm -rf $(VENV) results
