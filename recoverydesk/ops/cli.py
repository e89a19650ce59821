"""`recoverydesk`: start the stack, train, migrate the database, and administer accounts, agents,
reports and the audit trail."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from typing import Any, Awaitable, Callable, Iterator, Optional

from recoverydesk import logs
from recoverydesk import settings as settings_module
from recoverydesk.domain.accounts import EVENT_KINDS
from recoverydesk.domain.languages import SUPPORTED as SUPPORTED_LANGUAGES
from recoverydesk.ops.stack import (
    Stack,
    StackError,
    embedded_redis_argv,
    free_port,
    instances_from_env,
    redis_ok,
    redis_url_for_cli,
)
from recoverydesk.ops.training import TrainingFailed, ensure_model
from recoverydesk.settings import ConfigurationError, Settings


class CommandFailed(Exception):
    """A command could not do what was asked; the message is one sentence for the operator."""


def _say(line: str) -> None:
    print(line, flush=True)


@contextlib.contextmanager
def admin_redis(settings: Settings) -> Iterator[str]:
    """Redis for an admin command: REDIS_URL, the running stack's, or the embedded data started briefly."""
    url = redis_url_for_cli(settings)
    if url:
        yield url
        return
    port = free_port()
    process = subprocess.Popen(
        embedded_redis_argv(settings.var_dir, port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 20
        while not redis_ok(url):
            if time.monotonic() > deadline or process.poll() is not None:
                raise CommandFailed("The embedded Redis did not start; is another one using var/redis?")
            time.sleep(0.1)
        yield url
        import redis

        redis.Redis.from_url(url).execute_command("BGREWRITEAOF")
    finally:
        process.terminate()
        process.wait(10)


def cmd_train(settings: Settings, args: argparse.Namespace) -> int:
    model, trained = ensure_model(settings.root, force=args.force, say=_say)
    _say(f"{'Trained' if trained else 'Up to date'}: {model.relative_to(settings.root)}")
    return 0


def _ensure_demo_agent(settings: Settings, redis_url: str) -> dict:
    """A supervisor to try the console with; its login is kept in var/ for development only."""
    path = settings.var_dir / "demo-agent.json"
    demo = json.loads(path.read_text()) if path.exists() else None
    if demo and asyncio.run(_with_agents(settings, redis_url, lambda d: d.exists(demo["username"]))):
        return demo
    password = secrets.token_urlsafe(15)
    username = "demo-supervisor"
    if asyncio.run(_with_agents(settings, redis_url, lambda d: d.exists(username))):
        username = f"demo-{secrets.token_hex(3)}"
    seed = asyncio.run(_with_agents(settings, redis_url, lambda d: d.add(username, password, "supervisor")))
    demo = {"username": username, "password": password, "totp_secret": seed}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(demo, handle)
    return demo


async def _with_agents(settings: Settings, redis_url: str, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """Runs ``work(agent_directory)``: agents in the database, their sign-in state in Redis."""
    from redis.asyncio import Redis

    from recoverydesk.adapters.agent_store import AgentDirectory
    from recoverydesk.domain.crypto import SecretBox
    from recoverydesk.services.bootstrap import database_for

    client = Redis.from_url(redis_url)
    database = database_for(settings)
    try:
        return await work(AgentDirectory(client, SecretBox(settings.secret_key), database))
    finally:
        await client.close()
        await database.dispose()


def _load_demo_accounts(settings: Settings, redis_url: str) -> list[str]:
    from recoverydesk.ops.demo import load_demo_accounts

    return _run_with_directory(
        Settings.from_env({**settings_module.environment(), "REDIS_URL": redis_url}, settings.root), load_demo_accounts
    )


def cmd_up(settings: Settings, args: argparse.Namespace) -> int:
    _say("Recovery Desk: checking the model…")
    model, trained = ensure_model(settings.root, say=_say)
    _say(f"Model {'trained' if trained else 'up to date'}: {model.name}")
    environment = settings_module.environment()
    environment["LOG_FORMAT"] = "json"  # var/log/*.log are read by tools (and the canary test), whatever the terminal
    stack = Stack(settings, model, environment, instances_from_env(environment))
    stopping: dict[str, Optional[int]] = {"signal": None}
    serving = {"now": False}

    def request_stop(signum: int, _frame: object) -> None:
        stopping["signal"] = signum
        # While serving, the loop below sees the flag: raising in the middle of Popen.poll could leave
        # its wait lock held, and stop() would then wait on it for ever.
        if not serving["now"]:
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        _say("Starting the stack…")
        stack.start(_say)
        s = stack.settings
        demo = _ensure_demo_agent(s, stack.env["REDIS_URL"])
        demo_emails = _load_demo_accounts(s, stack.env["REDIS_URL"])
        _say("")
        _say(f"Web chat:       {s.public_base_url}/chat/")
        _say(f"Agent console:  http://localhost:{s.helpdesk_port}/console/")
        if s.uses_mail_sink:
            _say(f"Mailbox:        http://localhost:{s.mail_sink_http_port}/")
        if stack.instances > 1:
            _say(f"Rasa instances: {', '.join(stack.rasa_urls)} (put a sticky load balancer in front)")
        _say(f"Rasa workers:   {stack.workers} per instance (RASA_WORKERS)")
        _say(f"Rasa API token: {stack.env['RASA_TOKEN']}")
        _say(f"Demo agent:     {demo['username']} / {demo['password']}  (TOTP secret {demo['totp_secret']})")
        _say(f"Demo accounts:  {', '.join(demo_emails)}")
        _say("Press Ctrl-C to stop.")
        serving["now"] = True
        while stopping["signal"] is None:
            dead = stack.alive()
            if dead is not None:
                raise StackError(f"{dead.name} stopped unexpectedly; see var/log/{dead.name}.log.")
            time.sleep(0.5)
        _say("Stopping…")
        return 0
    except KeyboardInterrupt:
        _say("Stopping…")
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stack.stop()


def _run_with_directory(settings: Settings, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """Runs ``work(directory)`` against the admin Redis; account errors become one clear sentence."""
    from redis.asyncio import Redis

    from recoverydesk.adapters.directory import AccountDirectory
    from recoverydesk.domain.accounts import AccountError
    from recoverydesk.domain.crypto import SecretBox

    async def run(url: str) -> Any:
        client = Redis.from_url(url)
        try:
            return await work(AccountDirectory(client, SecretBox(settings.secret_key)))
        finally:
            await client.close()

    with admin_redis(settings) as url:
        try:
            return asyncio.run(run(url))
        except AccountError as exc:
            raise CommandFailed(str(exc)) from None


def cmd_accounts_add(settings: Settings, args: argparse.Namespace) -> int:
    account = _run_with_directory(
        settings, lambda d: d.add(args.email, args.name, args.password, args.phone, args.totp_secret, args.language)
    )
    _say(json.dumps(account.public(), indent=2))
    return 0


def cmd_accounts_add_event(settings: Settings, args: argparse.Namespace) -> int:
    fields = {"at": args.at, "ip": args.ip, "device": args.device, "detail": args.detail, "place": args.place}
    event = _run_with_directory(settings, lambda d: d.add_event(args.email, args.kind, **fields))
    _say(json.dumps(event.to_dict(), indent=2))
    return 0


def cmd_accounts_change_contacts(settings: Settings, args: argparse.Namespace) -> int:
    if args.new_email is None and args.new_phone is None:
        raise CommandFailed("Give --new-email, --new-phone or both.")
    account = _run_with_directory(settings, lambda d: d.change_contacts(args.email, args.new_email, args.new_phone))
    _say(json.dumps(account.public(), indent=2))
    return 0


def cmd_accounts_remove_2fa(settings: Settings, args: argparse.Namespace) -> int:
    account = _run_with_directory(settings, lambda d: d.remove_second_factor(args.email))
    _say(json.dumps(account.public(), indent=2))
    return 0


def cmd_accounts_show(settings: Settings, args: argparse.Namespace) -> int:
    _say(json.dumps(_run_with_directory(settings, lambda d: d.show(args.email)), indent=2))
    return 0


def cmd_agents_add(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    with admin_redis(settings) as url:
        from recoverydesk.adapters.agent_store import AgentError

        try:
            seed = asyncio.run(
                _with_agents(settings, url, lambda d: d.add(args.username, args.password, args.role))
            )
        except AgentError as exc:
            raise CommandFailed(str(exc)) from None
        except SQLAlchemyError as exc:
            raise CommandFailed(
                f"The agent could not be stored ({type(exc).__name__}); check DATABASE_URL and run "
                "`recoverydesk db upgrade`."
            ) from None
    _say(f"Agent {args.username} ({args.role}) created.")
    _say(f"TOTP secret (shown once; add it to the agent's authenticator app): {seed}")
    return 0


def cmd_report_daily(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import date, datetime, timezone

    from redis.asyncio import Redis

    from recoverydesk.domain.reports import to_csv
    from recoverydesk.services.bootstrap import audit_log_for, database_for
    from recoverydesk.services.daily_report import load_daily_report
    from recoverydesk.services.report_page import standalone_page

    now = datetime.now(timezone.utc)
    try:
        day = date.fromisoformat(args.date) if args.date else now.date()
    except ValueError:
        raise CommandFailed(f"--date must be a day in the form YYYY-MM-DD, not {args.date!r}.") from None

    async def run(url: str) -> dict:
        client = Redis.from_url(url)
        database = database_for(settings)
        try:
            return await load_daily_report(client, audit_log_for(settings, database), day, now)
        finally:
            await client.close()
            await database.dispose()

    from redis.exceptions import RedisError

    with admin_redis(settings) as url:
        try:
            report = asyncio.run(run(url))
        except (RedisError, OSError) as exc:
            raise CommandFailed(f"Redis could not be read ({type(exc).__name__}); check REDIS_URL.") from None
    rendered = {"json": lambda r: json.dumps(r, indent=2), "csv": to_csv, "html": standalone_page}[args.format](report)
    sys.stdout.write(rendered if rendered.endswith("\n") else rendered + "\n")
    return 0


def cmd_channels_register(settings: Settings, args: argparse.Namespace) -> int:
    from recoverydesk.ops.channel_registration import RegistrationFailed, register

    try:
        register(settings, args.channel, _say)
    except RegistrationFailed as exc:
        raise CommandFailed(str(exc)) from None
    return 0


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from recoverydesk.adapters.migrator import MigrationFailed, upgrade

    try:
        revision = asyncio.run(upgrade(settings.database_migration_url, settings.database_timeout_seconds))
    except MigrationFailed as exc:
        raise CommandFailed(str(exc)) from None
    _say(f"The database is at revision {revision}.")
    return 0


def _with_audit(settings: Settings, work: Callable[[Any], Awaitable[Any]], owner: bool = False) -> Any:
    """Runs ``work(audit_log)`` on the system of record (as its owner for a purge); database errors
    become one sentence."""
    from sqlalchemy.exc import SQLAlchemyError

    from recoverydesk.services.bootstrap import audit_log_for, database_for

    async def run() -> Any:
        database = database_for(settings, settings.database_migration_url if owner else None)
        try:
            return await work(audit_log_for(settings, database) if not owner else database)
        finally:
            await database.dispose()

    try:
        return asyncio.run(run())
    except (SQLAlchemyError, OSError, asyncio.TimeoutError) as exc:
        raise CommandFailed(
            f"The audit trail could not be read ({type(exc).__name__}); check DATABASE_URL and run "
            "`recoverydesk db upgrade`."
        ) from None


def cmd_audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    verdict = _with_audit(settings, lambda audit: audit.verify())
    if verdict.broken is not None:
        print(f"recoverydesk: {verdict.broken.sentence()}", file=sys.stderr)
        return 1
    _say(f"The audit chain holds: {verdict.checked} entries verified.")
    return 0


def _day(value: str, option: str) -> str:
    from datetime import date

    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise CommandFailed(f"{option} must be a day in the form YYYY-MM-DD, not {value!r}.") from None


def cmd_audit_export(settings: Settings, args: argparse.Namespace) -> int:
    since = _day(args.since, "--since") if args.since else None

    async def write(audit: Any) -> int:
        count = 0
        async for entry in audit.export(since):
            sys.stdout.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
        return count

    _with_audit(settings, write)
    sys.stdout.flush()
    return 0


def cmd_audit_purge(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import datetime, timedelta, timezone

    from recoverydesk.adapters.audit_log import purge

    days = args.days if args.days is not None else settings.audit_retention_days
    if days < 1:
        raise CommandFailed(f"--days must be at least 1, not {days}.")
    cutoff = (datetime.now(timezone.utc) - timedelta(days=days)).date().isoformat()
    removed = _with_audit(settings, lambda owner: purge(owner, cutoff), owner=True)
    _say(f"Removed {removed} audit entries written before {cutoff}; every chain still verifies from its anchor.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recoverydesk", description="Recovery Desk administration")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start the whole stack in the foreground").set_defaults(run=cmd_up)
    train = commands.add_parser("train", help="train the model if the training data changed")
    train.add_argument("--force", action="store_true", help="train even if a model for this data exists")
    train.set_defaults(run=cmd_train)

    accounts = commands.add_parser("accounts", help="customer accounts").add_subparsers(
        dest="accounts_command", required=True
    )
    account_add = accounts.add_parser("add", help="create a customer account")
    account_add.add_argument("--email", required=True)
    account_add.add_argument("--name", required=True)
    account_add.add_argument("--password", required=True)
    account_add.add_argument("--phone")
    account_add.add_argument("--totp-secret", help="base32 seed of an already bound authenticator")
    account_add.add_argument(
        "--language", choices=SUPPORTED_LANGUAGES, help="preferred language for emails sent outside a conversation"
    )
    account_add.set_defaults(run=cmd_accounts_add)
    add_event = accounts.add_parser("add-event", help="record activity on an account")
    add_event.add_argument("--email", required=True)
    add_event.add_argument("--kind", required=True, choices=list(EVENT_KINDS))
    add_event.add_argument("--ip")
    add_event.add_argument("--at", help="ISO 8601 time (default: now)")
    add_event.add_argument("--device")
    add_event.add_argument("--place", help="approximate place, e.g. 'Lisbon, PT'")
    add_event.add_argument("--detail")
    add_event.set_defaults(run=cmd_accounts_add_event)
    change = accounts.add_parser("change-contacts", help="a new email or phone (held for 24 h after a recovery)")
    change.add_argument("--email", required=True)
    change.add_argument("--new-email")
    change.add_argument("--new-phone")
    change.set_defaults(run=cmd_accounts_change_contacts)
    remove_2fa = accounts.add_parser("remove-2fa", help="remove the authenticator (held for 24 h after a recovery)")
    remove_2fa.add_argument("--email", required=True)
    remove_2fa.set_defaults(run=cmd_accounts_remove_2fa)
    show = accounts.add_parser("show", help="print an account as JSON (never a hash or seed)")
    show.add_argument("--email", required=True)
    show.set_defaults(run=cmd_accounts_show)

    agents = commands.add_parser("agents", help="helpdesk agents").add_subparsers(dest="agents_command", required=True)
    add = agents.add_parser("add", help="create an agent; prints their TOTP secret once")
    add.add_argument("--username", required=True)
    add.add_argument("--password", required=True)
    add.add_argument("--role", required=True, choices=["agent", "security", "supervisor"])
    add.set_defaults(run=cmd_agents_add)

    reports = commands.add_parser("report", help="reports").add_subparsers(dest="report_command", required=True)
    daily = reports.add_parser("daily", help="the day's contacts, handoffs, SLA, backlog and alerts")
    daily.add_argument("--date", help="the UTC day, YYYY-MM-DD (default: today)")
    daily.add_argument("--format", choices=["json", "csv", "html"], default="json")
    daily.set_defaults(run=cmd_report_daily)

    channels = commands.add_parser("channels", help="messenger channels").add_subparsers(
        dest="channels_command", required=True
    )
    register = channels.add_parser("register", help="tell a messenger platform our webhook URL")
    register.add_argument("channel", choices=["telegram", "whatsapp", "facebook"])
    register.set_defaults(run=cmd_channels_register)

    db = commands.add_parser("db", help="the system of record (DATABASE_URL)").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="apply the schema migrations (recoverydesk up does it too)").set_defaults(
        run=cmd_db_upgrade
    )

    audit = commands.add_parser("audit", help="the audit trail").add_subparsers(dest="audit_command", required=True)
    audit.add_parser("verify", help="check every hash chain; names the first broken link").set_defaults(
        run=cmd_audit_verify
    )
    export = audit.add_parser("export", help="print entries as JSON lines, for a central log store")
    export.add_argument("--since", help="the first UTC day to include, YYYY-MM-DD (default: everything)")
    export.set_defaults(run=cmd_audit_export)
    purge = audit.add_parser("purge", help="remove entries older than the retention (as the database owner)")
    purge.add_argument("--days", type=int, help="keep this many days (default: AUDIT_RETENTION_DAYS, 400)")
    purge.set_defaults(run=cmd_audit_purge)
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = settings_module.load()
        # an operator's terminal gets readable key=value lines; a pipe or a collector gets LOG_FORMAT
        logs.configure("console" if sys.stderr.isatty() else settings.log_format)
        return args.run(settings, args)
    except (CommandFailed, ConfigurationError, StackError, TrainingFailed) as exc:
        print(f"recoverydesk: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
