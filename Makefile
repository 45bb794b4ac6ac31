# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv if missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PLUGINS := plugins/cimgraph-sar-adc plugins/cimgraph-nvcap
STAMP := $(VENV)/.cimgraph-installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml $(wildcard plugins/*/pyproject.toml)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[torch,dev]' $(foreach p,$(wildcard $(PLUGINS)),-e $(p))
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/cimgraph run netlists/vgg8_rram_22nm.yaml --network vgg8 --report out/vgg8_rram.html --json out/vgg8_rram.json
	$(VENV)/bin/cimgraph run netlists/vgg8_sar_22nm.yaml --network vgg8 --json out/vgg8_sar.json
	$(VENV)/bin/cimgraph report out/vgg8_rram.json out/vgg8_sar.json -o out/compare_flash_sar.html
	$(VENV)/bin/cimgraph accuracy netlists/vgg8_rram_22nm.yaml --option adc_bits=5
	$(VENV)/bin/cimgraph train-ppa netlists/vgg8_rram_32nm_train.yaml --network vgg8 --json out/train_v2.json
	$(VENV)/bin/cimgraph train-ppa netlists/neurotorch_flash_45nm.yaml --network vgg8 --scheme popu --json out/train_popu.json
	$(VENV)/bin/cimgraph report out/train_v2.json out/train_popu.json -o out/train_v2_vs_popu.html
	@echo "reports written to out/"

test: $(STAMP)
	$(PY) -m pytest -q tests $(foreach p,$(wildcard $(PLUGINS)),$(p)/tests)

bench: $(STAMP)
	$(PY) benchmarks/bench_evaluate.py
	$(PY) benchmarks/bench_accuracy.py
	$(PY) benchmarks/bench_explore.py
	$(PY) benchmarks/bench_training_ppa.py

clean:
	rm -rf $(VENV) out .pytest_cache
