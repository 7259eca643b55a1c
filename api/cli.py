"""`qa-scoring serve`, `worker` and `keys`, registered through the ``qa_scoring.commands``
entry-point group."""

from __future__ import annotations

import os
import sys

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from qa_scoring.config import get_settings

out = Console()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes.")
@click.option("--dev", is_flag=True, help="Flask's development server (reloader, debugger off).")
def serve(host: str, port: int, workers: int, dev: bool) -> None:
    """Run the HTTP API (gunicorn). / 启动 HTTP 服务。"""
    if dev:
        from api import create_app

        create_app().run(host=host, port=port, threaded=True)
        return
    bind = f"{host}:{port}"
    # exec: gunicorn becomes this process, so signals from a supervisor reach it directly
    os.execvp(
        sys.executable,
        [
            sys.executable,
            "-m",
            "gunicorn",
            "api.wsgi:app",
            "--bind",
            bind,
            "--workers",
            str(workers),
            "--threads",
            "4",
            "--timeout",
            "120",
            "--access-logfile",
            "-",
        ],
    )


@click.command(context_settings={"ignore_unknown_options": True})
@click.option("--concurrency", "-c", default=1, show_default=True)
@click.option(
    "--pool",
    default="prefork",
    show_default=True,
    type=click.Choice(["prefork", "solo", "threads"]),
)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(concurrency: int, pool: str, celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker for batches and webhooks. / 启动批量评分 worker。"""
    if not get_settings().broker_url:
        raise click.UsageError("set QA_SCORING_BROKER_URL (e.g. redis://127.0.0.1:6379/0)")
    os.execvp(
        sys.executable,
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "qa_scoring.tasks",
            "worker",
            "--pool",
            pool,
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "INFO",
            *celery_args,
        ],
    )


@click.group()
def keys() -> None:
    """API keys. / API 密钥管理。"""


def _sessions() -> sessionmaker[Session]:
    from qa_scoring.storage.db import migrate, session_factory

    url = get_settings().database_url
    migrate(url)
    return session_factory(url)


@keys.command("create")
@click.option("--tenant", required=True)
@click.option(
    "--role", required=True, type=click.Choice(["admin", "qa_lead", "agent", "integration"])
)
@click.option("--agent-id", default=None, help="Required for role agent: whose data it reads.")
@click.option("--name", default=None, help="A label, e.g. the system that uses the key.")
def keys_create(tenant: str, role: str, agent_id: str | None, name: str | None) -> None:
    """Create a key and print it once (only its hash is stored)."""
    from api.auth import create_key
    from qa_scoring.errors import InputError

    try:
        with _sessions().begin() as session:
            key, info = create_key(session, tenant, role, agent_id, name)
    except InputError as exc:
        raise click.UsageError(exc.describe()) from None
    click.echo(key)
    click.echo(
        f"prefix {info.prefix}, tenant {tenant}, role {role} — store the key now; "
        "it cannot be shown again",
        err=True,
    )


@keys.command("list")
@click.option("--tenant", default=None)
def keys_list(tenant: str | None) -> None:
    """List keys (prefixes only)."""
    from api.auth import list_keys

    with _sessions()() as session:
        found = list_keys(session, tenant)
    table = Table("prefix", "tenant", "role", "agent", "name", "created", "revoked")
    for k in found:
        table.add_row(
            k.prefix,
            k.tenant,
            k.role,
            k.agent_id or "",
            k.name or "",
            f"{k.created_at:%Y-%m-%d %H:%M}",
            f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "",
        )
    out.print(table)


@keys.command("revoke")
@click.argument("prefix")
def keys_revoke(prefix: str) -> None:
    """Revoke a key by its prefix."""
    from api.auth import revoke_key
    from qa_scoring.errors import NotFound

    try:
        with _sessions().begin() as session:
            revoke_key(session, prefix)
    except NotFound as exc:
        raise click.UsageError(f"{exc} not found") from None
    click.echo(f"revoked {prefix}")
