"""The project's command line (``deps``, ``test``, ``run``, ``bench``), run as
``python3 tools/wacrm.py``.

Modules, by concern:

    __main__    argparse and dispatch to the commands
    project     repository paths, the addons, errors, printing
    processes   child processes: spawn, stop, wait for HTTP 200, free ports
    odoo        finding Odoo 19.0, odoo-bin command lines, PostgreSQL databases
    odoo_log    reading an Odoo log: test summary, failing tests, errors, tracebacks,
                processes of a prefork server restarting; following a growing log
    deps        the ``deps`` command: pip install ours and Odoo's requirements, check gevent
    testing     the ``test`` command: lint, pytest suites, Odoo tests, integration,
                the upstream modules' tests; watching a live server's log
    simulator   the Cloud API simulator's command line and the account pointing at it
    demo        the ``run`` command
    bench       the ``bench`` command

Only the standard library and ``requests`` are used, so it runs with Odoo's Python.
"""
