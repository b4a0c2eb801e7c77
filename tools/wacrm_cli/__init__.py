"""The project's command line (``test``, ``run``, ``bench``), run as ``python3 tools/wacrm.py``.

Modules, by concern:

    __main__    argparse and dispatch to the commands
    project     repository paths, the addons, errors, printing
    processes   child processes: spawn, stop, wait for HTTP 200, free ports
    odoo        finding Odoo 19.0, odoo-bin command lines, PostgreSQL databases
    odoo_log    reading an Odoo log: test summary, failing tests, errors, tracebacks
    testing     the ``test`` command: lint, pytest suites, Odoo tests, integration
    simulator   the Cloud API simulator's command line and the account pointing at it
    demo        the ``run`` command
    bench       the ``bench`` command

Only the standard library and ``requests`` are used, so it runs with Odoo's Python.
"""
