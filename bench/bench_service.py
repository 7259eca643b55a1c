"""The service path on this machine: synchronous latency and batch throughput, in one run.

    .venv/bin/python bench/bench_service.py [--requests 200] [--batch 600] [--model]

1. ``POST /v1/score`` of one 12-turn zh chat, ``--requests`` times, p50 / p95 latency, on the
   embedded default (SQLite) and on PostgreSQL (each request scores and stores).
2. A batch of ``--batch`` conversations over HTTP, scored by 1 and then 2 real Celery worker
   processes (PostgreSQL + Redis), conversations per second from submission to ``done``.

The lexical fallback stands in for the model heads unless ``--model`` is given, so the numbers
time the service (HTTP, validation, storage, queueing), not the encoder.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get(
    "QA_SCORING_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS = os.environ.get("QA_SCORING_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def chat_12_turns(i: int) -> dict:
    customer = [
        "在吗，我买的台灯到了是坏的",
        "订单号 o-88123",
        "[图片]",
        "要多久能到",
        "可以，那旧的怎么办",
        "好的，谢谢",
    ]
    agent = [
        "亲，您好，非常抱歉给您带来不便，我帮您查一下订单",
        "收到，麻烦您拍一下破损的照片",
        "已为您申请补发一台新的，48小时内发出，您看可以吗？",
        "一般2到3天就能到哦",
        "旧的不用寄回，您直接处理就可以",
        "不客气，还有其他可以帮您的吗？祝您生活愉快",
    ]
    turns = []
    for n, (c, a) in enumerate(zip(customer, agent, strict=True)):
        turns.append({"role": "customer", "text": c, "ts": f"2026-11-20T10:{2 * n:02d}:00+08:00"})
        turns.append({"role": "agent", "text": a, "ts": f"2026-11-20T10:{2 * n:02d}:30+08:00"})
    return {
        "id": f"bench-{i}",
        "language": "zh",
        "agent_id": f"a-{i % 7:02d}",
        "team": "after-sales",
        "metadata": {"shop": "home-goods"},
        "turns": turns,
    }


def examples(n: int) -> bytes:
    lines = (ROOT / "examples" / "conversations.jsonl").read_text("utf-8").split("\n")
    base = [json.loads(line) for line in lines if line.strip()]
    out = []
    for i in range(n):
        conv = copy.deepcopy(base[i % len(base)])
        conv["id"] = f"batch-{i:05d}"
        out.append(json.dumps(conv, ensure_ascii=False))
    return "\n".join(out).encode()


def admin(sql: str, url: str = PG_ADMIN) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def fresh_pg() -> tuple[str, str]:
    name = f"qa_scoring_bench_{uuid.uuid4().hex[:8]}"
    admin(f'CREATE DATABASE "{name}"')
    return name, make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)


def app_and_key(database_url: str, broker_url: str | None) -> tuple[Flask, dict[str, str]]:
    from api import create_app
    from api.auth import create_key

    app = create_app(
        {"DATABASE_URL": database_url, "BROKER_URL": broker_url, "RATE_LIMIT": "100000/minute"}
    )
    with app.extensions["qa_scoring"].sessions.begin() as session:
        key = create_key(session, "bench", "integration")[0]
    return app, {"Authorization": f"Bearer {key}"}


def sync_latency(database_url: str, requests: int) -> tuple[float, float]:
    app, headers = app_and_key(database_url, None)
    client = app.test_client()
    client.post("/v1/score", json=chat_12_turns(-1), headers=headers)  # warm up the scorer
    times = []
    for i in range(requests):
        started = time.perf_counter()
        response = client.post("/v1/score", json=chat_12_turns(i), headers=headers)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.json
    app.extensions["qa_scoring"].dispatcher.wait()
    q = statistics.quantiles(times, n=100)
    return q[49] * 1000, q[94] * 1000


def batch_throughput(workers: int, n: int) -> float:
    name, url = fresh_pg()
    queue = f"qa_scoring_bench_{uuid.uuid4().hex[:8]}"
    os.environ["QA_SCORING_TASK_QUEUE"] = queue
    env = os.environ | {"QA_SCORING_DATABASE_URL": url, "QA_SCORING_BROKER_URL": REDIS}
    try:
        app, headers = app_and_key(url, REDIS)  # migrates before the workers start
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "qa_scoring.tasks",
                    "worker",
                    "--pool=solo",
                    "-Q",
                    queue,
                    "-n",
                    f"bench{w}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--loglevel=WARNING",
                ],
                env=env,
                cwd=ROOT,
            )
            for w in range(workers)
        ]
        try:
            client = app.test_client()
            # Warm the workers (imports, scorer) so the timing is the steady state.
            warm = client.post(
                "/v1/batches", json=[chat_12_turns(i) for i in range(workers)], headers=headers
            ).json
            while client.get(warm["status_url"], headers=headers).json["state"] != "done":
                time.sleep(0.2)
            started = time.perf_counter()
            accepted = client.post(
                "/v1/batches",
                data=examples(n),
                headers=headers,
                content_type="application/x-ndjson",
            ).json
            while client.get(accepted["status_url"], headers=headers).json["state"] != "done":
                time.sleep(0.1)
            return n / (time.perf_counter() - started)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=30)
    finally:
        admin(f'DROP DATABASE "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--batch", type=int, default=600)
    parser.add_argument("--model", action="store_true", help="use the serving model heads")
    args = parser.parse_args()
    if not args.model:
        os.environ["QA_SCORING_CLASSIFIER"] = "lexical"

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        p50, p95 = sync_latency(f"sqlite:///{tmp}/bench.sqlite3", args.requests)
        rows.append(("POST /v1/score, embedded (SQLite)", f"p50 {p50:.1f} ms", f"p95 {p95:.1f} ms"))
    name, url = fresh_pg()
    try:
        p50, p95 = sync_latency(url, args.requests)
    finally:
        admin(f'DROP DATABASE "{name}" WITH (FORCE)')
    rows.append(("POST /v1/score, PostgreSQL", f"p50 {p50:.1f} ms", f"p95 {p95:.1f} ms"))
    for workers in (1, 2):
        rate = batch_throughput(workers, args.batch)
        rows.append(
            (f"batch of {args.batch}, {workers} Celery worker(s)", f"{rate:.0f} conv/s", "")
        )

    classifier = "model heads" if args.model else "lexical fallback"
    print(f"\nqa-scoring service bench ({classifier}, {os.cpu_count()} CPUs)")
    width = max(len(r[0]) for r in rows)
    for label, a, b in rows:
        print(f"  {label:<{width}}  {a:>14}  {b:>14}")


if __name__ == "__main__":
    main()
