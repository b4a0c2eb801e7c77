#!/usr/bin/env python3
"""Time the inbox, a long conversation, its lead and the reports on a big database.

Not a test: `python3 tools/wacrm.py bench-reports` (or `make bench-reports`) installs
whatsapp_crm in a throwaway database, starts `odoo-bin --workers=2` on it and runs
this script, which:

1. bulk-loads partners, leads from WhatsApp, conversations and messages with COPY
   (default 20,000 conversations and 200,000 messages, one conversation holding 5,000),
   with the stored report figures filled in as the hooks would have, then ANALYZE;
2. times, as admin over JSON-RPC, what the web client calls to open each screen: the
   median of --runs calls after one warm-up, measured from this client on loopback.

    python3 tests/benchmarks/bench_reports.py --url http://127.0.0.1:8069 --db DB \
        --login admin --password admin
"""

from __future__ import annotations

import argparse
import csv
import io
import ipaddress
import random
import re
import socket
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.odoo_rpc import OdooRpc  # noqa: E402

MAX_MESSAGES = 2_000_000
DAYS = 90
STATES = ["resolved"] * 5 + ["open"] * 2 + ["new"] * 2 + ["pending"]


def check_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    for info in socket.getaddrinfo(host, None):
        if not ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback:
            raise SystemExit(f"bench_reports: refusing {host}: loopback only")


# ---------------------------------------------------------------------------- loading

def copy_rows(cur, table: str, columns: list[str], rows: list[list]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    buffer.seek(0)
    cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buffer)
    cur.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")


def next_id(cur, table: str) -> int:
    cur.execute(f"SELECT COALESCE(max(id), 0) + 1 FROM {table}")
    return cur.fetchone()[0]


def load(args: argparse.Namespace, rpc: OdooRpc) -> dict:
    """Insert the data set; return the ids the measures need."""
    rng = random.Random(42)
    account_id = rpc.call("whatsapp.crm.account", "create", {
        "name": "Bench line", "waba_id": "100000000000077", "phone_number_id": "200000000000077",
        "display_phone_number": "15550007777", "access_token": "bench", "app_secret": "bench",
        "api_base_url": "http://127.0.0.1:9"})
    user_ids = [rpc.uid] + [rpc.call("res.users", "create", {
        "name": f"Bench Agent {n}", "login": f"bench_agent_{n}"}) for n in range(4)]
    conn = psycopg2.connect(dbname=args.db)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT company_id FROM whatsapp_crm_account WHERE id = %s", [account_id])
            company_id = cur.fetchone()[0]
            cur.execute("SELECT id FROM crm_team ORDER BY id LIMIT 1")
            team_id = cur.fetchone()[0]
            cur.execute("SELECT id, is_won FROM crm_stage ORDER BY sequence, id")
            stages = cur.fetchall()
            won_stage = next(sid for sid, is_won in stages if is_won)
            open_stage = stages[0][0]
            cur.execute("SELECT res_id FROM ir_model_data WHERE module = 'whatsapp_crm' "
                        "AND name = 'utm_source_whatsapp'")
            source_id = cur.fetchone()[0]
            ids = _insert(cur, args, rng, account_id, company_id, team_id, user_ids,
                          won_stage, open_stage, source_id)
        conn.autocommit = True
        with conn.cursor() as cur:
            for table in ("res_partner", "crm_lead", "whatsapp_crm_conversation",
                          "whatsapp_crm_message"):
                cur.execute(f"ANALYZE {table}")
    finally:
        conn.close()
    return ids


def _insert(cur, args, rng, account_id, company_id, team_id, user_ids, won_stage, open_stage,
            source_id) -> dict:
    now = datetime.utcnow().replace(microsecond=0)
    n_conv, n_msg, big = args.conversations, args.messages, args.big
    partner0, lead0 = next_id(cur, "res_partner"), next_id(cur, "crm_lead")
    conv0, msg0 = next_id(cur, "whatsapp_crm_conversation"), next_id(cur, "whatsapp_crm_message")
    # messages per conversation: the first holds `big`, the others share the rest
    rest = n_msg - big
    counts = [big] + [rest // (n_conv - 1) + (1 if i < rest % (n_conv - 1) else 0)
                      for i in range(n_conv - 1)]
    partners, leads, conversations, messages = [], [], [], []
    msg_id = msg0
    for i in range(n_conv):
        partner_id, lead_id, conv_id = partner0 + i, lead0 + i, conv0 + i
        wa_id = f"5511{i:09d}"
        name = f"Bench Customer {i}"
        user_id = rng.choice(user_ids)
        started = now - timedelta(days=rng.uniform(1, DAYS))
        state = rng.choice(STATES)
        won = rng.random() < 0.2
        revenue = rng.randrange(100, 10000)
        partners.append([partner_id, name, name, True, "contact", partner_id, "unknown",
                         f"+{wa_id}", company_id, started, started, 1, 1])
        leads.append([lead_id, f"WhatsApp: {name}", "opportunity", True, partner_id, company_id,
                      user_id, team_id, won_stage if won else open_stage, source_id, revenue,
                      "won" if won else "pending", revenue if won else 0,
                      100 if won else 10, "0", started, started, 1, 1])
        first_response = rng.uniform(1, 600)
        resolution = first_response + rng.uniform(10, 3000) if state == "resolved" else None
        moment = started
        inbound = outbound = 0
        for k in range(counts[i]):
            direction = "in" if k % 2 == 0 else "out"
            msg_state = "received" if direction == "in" else rng.choice(
                ["read"] * 6 + ["delivered"] * 3 + ["failed", "sent"])
            rates = ([100 if msg_state in ("delivered", "read") else 0,
                      100 if msg_state == "read" else 0, 100 if msg_state == "failed" else 0]
                     if direction == "out" else [None, None, None])
            inbound += direction == "in"
            outbound += direction == "out"
            messages.append([msg_id, conv_id, account_id, company_id, partner_id, lead_id,
                             direction, "text", f"Message {k} of conversation {i}",
                             f"wamid.BENCHREP{msg_id:012d}", msg_state, moment, user_id, team_id,
                             *rates, moment, moment, 1, 1])
            msg_id += 1
            moment += timedelta(minutes=rng.uniform(0.5, 30))
        last = moment - timedelta(minutes=1)
        csat = rng.randint(1, 5) if state == "resolved" and rng.random() < 0.4 else None
        conversations.append([
            conv_id, account_id, company_id, wa_id, f"{name} +{wa_id}", partner_id, lead_id,
            user_id, team_id, state, last, last, last + timedelta(hours=24), started,
            started + timedelta(minutes=first_response), round(first_response, 1),
            last if resolution else None, round(resolution, 1) if resolution else None,
            counts[i], inbound, outbound, won, csat, started, last, 1, 1])
    copy_rows(cur, "res_partner", [
        "id", "name", "complete_name", "active", "type", "commercial_partner_id",
        "whatsapp_opt_in", "phone", "company_id", "create_date", "write_date", "create_uid",
        "write_uid"], partners)
    copy_rows(cur, "crm_lead", [
        "id", "name", "type", "active", "partner_id", "company_id", "user_id", "team_id",
        "stage_id", "source_id", "expected_revenue", "won_status", "whatsapp_won_revenue",
        "probability", "priority", "create_date", "write_date", "create_uid", "write_uid"], leads)
    conv_columns = [
        "id", "account_id", "company_id", "wa_id", "name", "partner_id", "lead_id", "user_id",
        "team_id", "state", "last_message_at", "last_inbound_at", "window_expires_at",
        "first_inbound_at", "first_response_at", "first_response_minutes", "resolved_at",
        "resolution_minutes", "message_count", "inbound_count", "outbound_count", "lead_won",
        "csat_score", "create_date", "write_date", "create_uid", "write_uid"]
    cur.execute("SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'whatsapp_crm_conversation'")
    existing = {row[0] for row in cur.fetchall()}
    keep = [n for n, column in enumerate(conv_columns) if column in existing]
    copy_rows(cur, "whatsapp_crm_conversation", [conv_columns[n] for n in keep],
              [[row[n] for n in keep] for row in conversations])
    copy_rows(cur, "whatsapp_crm_message", [
        "id", "conversation_id", "account_id", "company_id", "partner_id", "lead_id",
        "direction", "message_type", "body", "wamid", "state", "timestamp", "user_id",
        "team_id", "delivered_rate", "read_rate", "failed_rate", "create_date", "write_date",
        "create_uid", "write_uid"], messages)
    return {"big_conversation": conv0, "big_lead": lead0, "source_id": source_id}


# ---------------------------------------------------------------------------- measuring

def form_spec(rpc: OdooRpc, model: str, subviews: dict | None = None) -> dict:
    """The web_read specification of the model's form: its fields, many2ones named."""
    views = rpc.call(model, "get_views", [[False, "form"]])
    fields = views["models"][model]["fields"]
    arch = views["views"]["form"]["arch"]
    spec = {}
    for name in dict.fromkeys(re.findall(r'<field name="(\w+)"', arch)):
        if name not in fields:
            continue
        ftype = fields[name]["type"]
        if subviews and name in subviews:
            spec[name] = subviews[name]
        elif ftype == "many2one":
            spec[name] = {"fields": {"display_name": {}}}
        else:
            spec[name] = {}
    return spec


def timed(rpc: OdooRpc, runs: int, model: str, method: str, *args, **kwargs) -> float:
    rpc.call(model, method, *args, **kwargs)  # warm-up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        rpc.call(model, method, *args, **kwargs)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def measure(args: argparse.Namespace, rpc: OdooRpc, ids: dict) -> list[tuple[str, float]]:
    runs = args.runs
    inbox_spec = {name: {} for name in ("name", "last_message_at", "window_expires_at", "state")}
    inbox_spec.update({name: {"fields": {"display_name": {}}}
                       for name in ("partner_id", "lead_id", "user_id", "account_id")})
    message_list = {"fields": {name: {} for name in (
        "timestamp", "direction", "message_type", "body", "state")}, "limit": 40,
        "order": "timestamp desc, id desc"}
    conversation_spec = form_spec(rpc, "whatsapp.crm.conversation",
                                  {"whatsapp_message_ids": message_list})
    lead_spec = form_spec(rpc, "crm.lead")
    whatsapp_leads = [("source_id", "=", ids["source_id"])]
    results = [
        ("inbox: conversation list (not resolved, 80)", timed(
            rpc, runs, "whatsapp.crm.conversation", "web_search_read",
            [("state", "!=", "resolved")], inbox_spec, limit=80, count_limit=10001)),
        (f"conversation form ({args.big} messages)", timed(
            rpc, runs, "whatsapp.crm.conversation", "web_read", [ids["big_conversation"]],
            conversation_spec)),
        ("lead form of that conversation", timed(
            rpc, runs, "crm.lead", "web_read", [ids["big_lead"]], lead_spec)),
        ("report messages: pivot day x direction", timed(
            rpc, runs, "whatsapp.crm.message", "formatted_read_group", [],
            ["timestamp:day", "direction"],
            ["__count", "delivered_rate:avg", "read_rate:avg", "failed_rate:avg"])),
        ("report messages: graph day x direction", timed(
            rpc, runs, "whatsapp.crm.message", "formatted_read_group", [],
            ["timestamp:day", "direction"], ["__count"])),
        ("report conversations: pivot agent x state", timed(
            rpc, runs, "whatsapp.crm.conversation", "formatted_read_group", [],
            ["user_id", "state"], ["__count", "first_response_minutes:avg",
                                   "resolution_minutes:avg", "csat_score:avg"])),
        ("report conversations: graph team", timed(
            rpc, runs, "whatsapp.crm.conversation", "formatted_read_group", [],
            ["team_id"], ["first_response_minutes:avg"])),
        ("report leads: pivot month x won", timed(
            rpc, runs, "crm.lead", "formatted_read_group", whatsapp_leads,
            ["create_date:month", "won_status"],
            ["__count", "expected_revenue:sum", "whatsapp_won_revenue:sum"])),
        ("report leads: graph month", timed(
            rpc, runs, "crm.lead", "formatted_read_group", whatsapp_leads,
            ["create_date:month"], ["whatsapp_won_revenue:sum"])),
        ("dashboard (30 days, _dashboard_data)", timed(
            rpc, runs, "whatsapp.crm.dashboard", "onchange", [], {}, [],
            {name: {} for name in ("date_from", "date_to", "first_response_p90",
                                   "resolution_p90", "backlog_total", "lead_won_revenue",
                                   "delivery_rate", "csat_avg")})),
    ]
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--conversations", type=int, default=20_000)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--big", type=int, default=5_000, help="messages of the long one")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not 0 < args.big < args.messages <= MAX_MESSAGES or args.conversations < 2 \
            or args.messages - args.big < args.conversations - 1 or not 1 <= args.runs <= 50:
        raise SystemExit("bench_reports: inconsistent or too large sizes")
    check_loopback(args.url)
    rpc = OdooRpc(args.url, args.db, args.login, args.password, timeout=300)
    rpc.authenticate()
    started = time.monotonic()
    ids = load(args, rpc)
    print(f"loaded {args.messages:,} messages in {args.conversations:,} conversations "
          f"(+ partners, leads) in {time.monotonic() - started:.0f}s; ANALYZE done")
    results = measure(args, rpc, ids)
    print(f"\n{'screen / report':<46} {'median ms':>10}   (of {args.runs} runs, after 1 warm-up)")
    for label, millis in results:
        print(f"{label:<46} {millis:>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
