# The project's commands; all of them go through tools/wacrm.py.
# Odoo 19.0 is found through ODOO_PATH (default /opt/odoo19):  make test ODOO_PATH=~/src/odoo
# Extra options go in ARGS:  make test ARGS="--only unit,simulator"   make run ARGS=--reset

PYTHON ?= python3
WACRM = $(PYTHON) tools/wacrm.py
ifdef ODOO_PATH
export ODOO_PATH
endif

.PHONY: help run test bench bench-reports lint

help:
	@echo "make run    demo: Odoo on :8069 with the Cloud API simulator writing as customers"
	@echo "make test   lint, unit, simulator, Odoo and integration tests (throwaway database)"
	@echo "make bench  webhook throughput and latency, then the processing drain (throwaway server)"
	@echo "make bench-reports  inbox, forms and reports timed on 200,000 messages (throwaway db)"
	@echo "make lint   ruff and pylint-odoo only"

run:
	$(WACRM) run $(ARGS)

test:
	$(WACRM) test $(ARGS)

bench:
	$(WACRM) bench $(ARGS)

bench-reports:
	$(WACRM) bench-reports $(ARGS)

lint:
	$(WACRM) test --only lint $(ARGS)
