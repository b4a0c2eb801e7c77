"""Fixtures: an in-process simulator on an ephemeral port and a webhook receiver."""

from __future__ import annotations

import pytest
from wacrm_simulator import Account, Simulator, SimulatorConfig

from .support import PNID, SECRET, TOKEN, WABA, Graph, Receiver


@pytest.fixture
def receiver():
    rec = Receiver()
    yield rec
    rec.close()


@pytest.fixture
def make_sim(receiver):
    started: list[Simulator] = []

    def factory(accounts: list[Account] | None = None, **overrides) -> Simulator:
        cfg = dict(status_latency=0.03, template_approval_delay=0.05, webhook_backoff=0.01,
                   webhook_timeout=3.0, seed=7)
        cfg.update(overrides)
        if accounts is None:
            accounts = [Account(waba_id=WABA, phone_number_id=PNID,
                                display_phone_number="15550001111", access_token=TOKEN,
                                app_secret=SECRET, webhook_url=receiver.url)]
        sim = Simulator(SimulatorConfig(accounts=accounts, **cfg)).start()
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        sim.stop()


@pytest.fixture
def sim(make_sim):
    return make_sim()


@pytest.fixture
def graph(sim):
    client = Graph(sim)
    yield client
    client.http.close()

