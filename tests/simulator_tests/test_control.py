"""Control API over HTTP, reset, journals, scripted customers and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import requests
from wacrm_simulator import ScriptRunner
from wacrm_simulator.__main__ import build_config, parse_args
from wacrm_simulator.personas import PERSONAS

from .support import PNID, Graph, wait_for

ROOT = Path(__file__).resolve().parents[2]


def _ctl(sim, method, route, body=None):
    resp = requests.request(method, f"{sim.base_url}/_sim/{route}", json=body, timeout=10)
    return resp.status_code, resp.json()


def test_health_and_clock(sim):
    assert _ctl(sim, "GET", "health")[1]["ok"] is True
    before = _ctl(sim, "GET", "clock")[1]["now"]
    after = _ctl(sim, "POST", "clock", {"advance": 3600})[1]["now"]
    assert after - before >= 3600


def test_journals_and_message_state(sim, graph):
    sim.customer_sends("34699887766", "hola")
    wamid = graph.send("34699887766").json()["messages"][0]["id"]
    graph.send("bad-number")
    status, accepted = _ctl(sim, "GET", "requests?path=/messages")
    assert status == 200 and accepted[-1]["wamid"] == wamid
    assert accepted[-1]["json"]["to"] == "34699887766"
    assert all("Authorization" not in r["headers"] for r in accepted)
    rejected = _ctl(sim, "GET", "rejected")[1]
    assert rejected[-1]["code"] == 131009 and rejected[-1]["status"] == 400
    state = _ctl(sim, "GET", f"messages/{wamid}")[1]
    assert state["wa_id"] == "34699887766" and state["type"] == "text"
    wait_for(lambda: _ctl(sim, "GET", f"messages/{wamid}")[1]["status"] == "read")
    hooks = _ctl(sim, "GET", "webhooks")[1]
    assert hooks and {"payload", "status_code", "attempts", "latency_ms"} <= set(hooks[0])
    assert _ctl(sim, "GET", "messages/wamid.nope")[0] == 404


def test_seed_templates_and_reset(sim, graph):
    status, tpl = _ctl(sim, "POST", "templates", {
        "name": "hello", "language": "en", "status": "APPROVED", "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Hello!"}]})
    assert status == 200 and tpl["id"]
    body = {"type": "template", "template": {"name": "hello", "language": {"code": "en"}}}
    assert graph.send("447700900555", body).status_code == 200
    assert _ctl(sim, "POST", "reset")[1] == {"ok": True}
    assert graph.send("447700900555", body).json()["error"]["code"] == 132001
    assert _ctl(sim, "GET", "requests")[1] == []


def test_manual_status_control(sim, graph, receiver):
    sim.customer_sends("34699887766", "hola")
    wamid = graph.send("34699887766").json()["messages"][0]["id"]
    status, entry = _ctl(sim, "POST", "status", {"wamid": wamid, "status": "failed",
                                                 "code": 131049})
    assert status == 200 and entry["errors"][0]["code"] == 131049
    wait_for(lambda: any(s["status"] == "failed" for s in receiver.statuses(wamid)))


def test_unknown_control_route(sim):
    assert _ctl(sim, "GET", "nope")[0] == 404


def test_script_runner_personas(sim, receiver):
    runner = ScriptRunner(sim, interval=999, reply_probability=1.0, reply_delay=(0.01, 0.02),
                          seed=3)
    for _ in range(len(PERSONAS) * 4):
        runner.tick()
    wait_for(lambda: len(receiver.messages()) == len(PERSONAS) * 4)
    messages = receiver.messages()
    types = {m["type"] for m in messages}
    assert {"text", "image", "audio", "document", "location"} <= types
    assert any("referral" in m for m in messages)
    assert any(any(ch in m.get("text", {}).get("body", "") for ch in "áéíóúãçñ")
               for m in messages)
    # João registered without the 9: a send with the 9 maps back to his wa_id
    graph = Graph(sim)
    resp = graph.send("+5511987654321")
    assert resp.json()["contacts"][0]["wa_id"] == "551187654321"
    wamid = resp.json()["messages"][0]["id"]
    reply = wait_for(lambda: [m for m in receiver.messages()
                              if m.get("context", {}).get("id") == wamid
                              or m.get("reaction", {}).get("message_id") == wamid])
    assert reply[0]["from"] == "551187654321"
    # Rafaela uses a username: only her BSUID is shown, and she is answered by it.
    rafaela = sim.customer("5521998877665")
    hers = [m for m in messages if m["from_user_id"] == rafaela["bsuid"]]
    assert hers and all("from" not in m for m in hers)
    sent = graph.post(f"{PNID}/messages", {"messaging_product": "whatsapp",
                                           "recipient": rafaela["bsuid"], "type": "text",
                                           "text": {"body": "Fazemos sim!"}})
    assert sent.json()["contacts"] == [{"input": rafaela["bsuid"], "user_id": rafaela["bsuid"]}]
    runner.stop()


def test_cli_config(tmp_path):
    cfg = tmp_path / "sim.json"
    cfg.write_text(json.dumps({"accounts": [{"waba_id": 1, "phone_number_id": 2,
                                             "access_token": "t"}],
                               "status_latency": 0.5}))
    args = parse_args(["--config", str(cfg), "--port", "0", "--webhook-url", "http://x/h"])
    config = build_config(args)
    assert config.status_latency == 0.5
    assert config.accounts[0].phone_number_id == "2"
    assert config.accounts[0].webhook_url == "http://x/h"
    assert config.accounts[0].access_token == "t"
    args = parse_args(["--phone-number-id", "555", "--access-token", "abc"])
    account = build_config(args).accounts[0]
    assert (account.phone_number_id, account.access_token) == ("555", "abc")


def test_cli_process(receiver):
    proc = subprocess.Popen(
        [sys.executable, "-m", "wacrm_simulator", "--port", "0", "--webhook-url", receiver.url,
         "--access-token", "cli-token", "--phone-number-id", "321"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")),
                                  daemon=True)
        reader.start()
        banner = wait_for(lambda: [ln for ln in lines if "simulator on http" in ln], timeout=20)
        base = banner[0].split(" on ")[1].strip()
        assert requests.get(base + "/_sim/health", timeout=5).json()["ok"] is True
        requests.post(base + "/_sim/inbound", json={"from": "34600000000", "text": "hi"},
                      timeout=10)
        resp = requests.post(base + "/v25.0/321/messages",
                             headers={"Authorization": "Bearer cli-token"},
                             json={"messaging_product": "whatsapp", "to": "34600000000",
                                   "type": "text", "text": {"body": "hey"}}, timeout=10)
        assert resp.status_code == 200
        wait_for(lambda: any("POST /v25.0/321/messages -> 200" in ln for ln in lines))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0
