# The project's commands; all of them go through tools/wacrm.py.
# Odoo 19.0 is found through ODOO_PATH (default /opt/odoo19):  make test ODOO_PATH=~/src/odoo
# Extra options go in ARGS:  make test ARGS="--only unit,simulator"   make run ARGS=--reset
# run, test, bench, bench-reports and lint first install what they need into the Python
# in use (make deps: our requirements and Odoo's; pip runs again only when one of those
# files changes, or in a new venv). Use a venv:  python3 -m venv .venv; . .venv/bin/activate

PYTHON ?= python3
WACRM = $(PYTHON) tools/wacrm.py
ifdef ODOO_PATH
export ODOO_PATH
endif

.PHONY: help deps run test bench bench-reports lint

help:
	@echo "make deps   pip install requirements*.txt and Odoo's requirements.txt into $(PYTHON)"
	@echo "make run    demo: Odoo on :8069 with the Cloud API simulator writing as customers"
	@echo "make test   lint, unit, simulator, Odoo, integration and upstream (crm, phone_validation)"
	@echo "            tests (throwaway databases)"
	@echo "make bench  webhook throughput and latency, then the processing drain (throwaway server)"
	@echo "make bench-reports  inbox, forms and reports timed on 200,000 messages (throwaway db)"
	@echo "make lint   ruff and pylint-odoo only"

deps:
	$(WACRM) deps

run: deps
	$(WACRM) run $(ARGS)

test: deps
	$(WACRM) test $(ARGS)

bench: deps
	$(WACRM) bench $(ARGS)

bench-reports: deps
	$(WACRM) bench-reports $(ARGS)

lint: deps
	$(WACRM) test --only lint $(ARGS)
