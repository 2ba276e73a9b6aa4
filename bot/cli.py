"""Command line: `python -m bot <command>`. Other tools rely on `ask` and `kb check`; keep them
stable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, cast

from bot.bulletin.items import Week
from bot.clock import vietnam_today
from bot.config import ConfigError, Settings, load_settings
from bot.qa.answers import Answerer, Reply
from bot.qa.conversation import context_after
from bot.qa.knowledge import LoadResult, load_knowledge
from bot.store.records import Turn

if TYPE_CHECKING:
    from bot.bulletin.service import BulletinService
    from bot.services import Services

TOKEN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(Path(args.config) if args.config else None)
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    result: int = handler(args, settings)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("--config", help="config file (default: $BOT_CONFIG or ./config.toml)")
    commands = parser.add_subparsers(title="commands")

    ask = commands.add_parser("ask", help="answer questions (arguments, or one per stdin line)")
    ask.add_argument("--json", action="store_true", help="one JSON object per line")
    ask.add_argument(
        "--conversation",
        action="store_true",
        help="stdin lines are turns of a conversation; a blank line starts a new one",
    )
    ask.add_argument("question", nargs="*", help="the question; several words are joined")
    ask.set_defaults(handler=_ask)

    kb = commands.add_parser("kb", help="knowledge base tools")
    kb_commands = kb.add_subparsers(title="kb commands", required=True)
    check = kb_commands.add_parser("check", help="validate knowledge files")
    check.add_argument("path", nargs="?", help="knowledge folder, topic folder or one file")
    check.set_defaults(handler=_kb_check)

    console = commands.add_parser("console", help="chat with the bot in this terminal")
    console.set_defaults(handler=_console)

    run = commands.add_parser("run", help="start the bot (console chat without a token)")
    run.set_defaults(handler=_run)

    report = commands.add_parser("report", help="write the quarterly report files")
    report.add_argument("--quarter", help="e.g. 2026-Q3 (default: the current quarter)")
    report.add_argument("--out", required=True, help="folder for the report files")
    report.set_defaults(handler=_report)

    bulletin = commands.add_parser("bulletin", help="the weekly TBT bulletin")
    bulletin_commands = bulletin.add_subparsers(title="bulletin commands", required=True)
    importer = bulletin_commands.add_parser("import", help="import a WTO ePing export")
    importer.add_argument("file", help=".xlsx or .csv exported from ePing")
    preview = bulletin_commands.add_parser("preview", help="print the week's bulletin")
    sender = bulletin_commands.add_parser("send", help="send the week's bulletin now")
    for command, handler in ((importer, _bulletin_import), (preview, _bulletin_preview),
                             (sender, _bulletin_send)):  # fmt: skip
        command.add_argument(
            "--week", type=_week_arg, help="ISO week, e.g. 2026-W48 (default: this week)"
        )
        command.set_defaults(handler=handler)

    db = commands.add_parser("db", help="database tools")
    db_commands = db.add_subparsers(title="db commands", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply the database migrations")
    upgrade.set_defaults(handler=_db_upgrade)
    return parser


def load_answerer(settings: Settings, err: TextIO = sys.stderr) -> Answerer:
    """Load the knowledge base, serving the valid entries even if some files are broken."""
    loaded = load_knowledge(settings.knowledge_path, settings.agency, settings.knowledge)
    if loaded.errors:
        print(
            f"knowledge base: {len(loaded.errors)} problem(s), broken files left out; "
            "run `python -m bot kb check` for details",
            file=err,
        )
    return Answerer(loaded.knowledge, settings.agency, settings.retrieval)


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    answerer = load_answerer(settings)
    questions: Iterable[str]
    if args.question:
        questions = [" ".join(args.question)]
    else:
        questions = (line.rstrip("\r\n") for line in sys.stdin)
    context: Turn | None = None
    for question in questions:
        if args.conversation and not question.strip():
            context = None  # a blank line starts a new conversation
            continue
        reply = answerer.ask(question, context=context if args.conversation else None)
        context = context_after(context, reply)
        if args.json and args.conversation:
            print(json.dumps(reply.as_conversation_json(), ensure_ascii=False), flush=True)
        elif args.json:
            print(json.dumps(reply.as_json(), ensure_ascii=False), flush=True)
        else:
            print(_readable(reply), flush=True)
    return 0


def _readable(reply: Reply) -> str:
    if reply.topic:
        head = f"[{reply.topic} · {reply.entry_id} · độ tin cậy {reply.confidence:.2f}]"
    else:
        head = f"[chưa chắc chắn · độ tin cậy {reply.confidence:.2f}]"
    lines = [head, reply.text]
    if reply.clarify:
        lines += [f"  - {option.label}" for option in reply.clarify]
    if reply.suggestions and reply.topic:
        lines.append("Câu hỏi liên quan:")
        lines += [f"  - {s.title}" for s in reply.suggestions]
    return "\n".join(lines) + "\n"


def _kb_check(args: argparse.Namespace, settings: Settings) -> int:
    target = Path(args.path) if args.path else settings.knowledge_path
    root = _knowledge_root(target)
    loaded: LoadResult = load_knowledge(root, settings.agency, settings.knowledge)
    scope = target.resolve()
    shown = [p for p in loaded.problems if _inside(Path(p.file), root, scope)]
    for problem in shown:
        print(problem)
    if warning := settings.agency.missing_warning():
        print(warning, file=sys.stderr)  # stdout lists the knowledge files' problems only
    errors = [p for p in shown if not p.warning]
    entries = len(loaded.knowledge)
    summary = (
        f"{entries} entries loaded, {len(errors)} error(s), {len(shown) - len(errors)} warning(s)"
    )
    print(summary, file=sys.stderr)
    return 1 if errors else 0


def _knowledge_root(target: Path) -> Path:
    if target.is_file():
        return target.parent.parent
    if target.is_dir() and any(target.glob("*.md")) and not any(target.glob("*/*.md")):
        return target.parent
    return target


def _inside(problem_file: Path, root: Path, scope: Path) -> bool:
    """Whether a problem concerns the checked path (problems of no file are always shown)."""
    path = (root.parent / problem_file).resolve()
    return not path.exists() or path == scope or scope in path.parents


def _schema_problem(settings: Settings, spool: bool = False) -> str | None:
    """One line when the database is not migrated, or (for commands that have no spool to
    fall back on) not reachable; the chat commands carry on and spool their log."""
    from sqlalchemy.exc import OperationalError

    from bot.store.database import create_database_engine, schema_is_current

    engine = create_database_engine(
        settings.database_url, busy_timeout_ms=settings.database.busy_timeout_ms
    )
    try:
        if not schema_is_current(engine):
            return "The database schema is not up to date: run `python -m bot db upgrade`."
    except OperationalError as exc:
        if not spool:
            return f"Cannot reach the database: {str(exc.orig).splitlines()[0]}"
        print(f"Database unavailable, answers will be spooled: {exc.orig}", file=sys.stderr)
    finally:
        engine.dispose()
    return None


def _console(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console import run_console
    from bot.services import Services

    if problem := _schema_problem(settings, spool=True):
        print(problem, file=sys.stderr)
        return 2
    services = Services.open(settings)
    try:
        return run_console(services)
    finally:
        services.close()


def _run(args: argparse.Namespace, settings: Settings) -> int:
    token = settings.telegram_token
    if not token:
        print("TELEGRAM_BOT_TOKEN is not set: starting the local console chat.", file=sys.stderr)
        return _console(args, settings)
    if not TOKEN.match(token):
        print(
            "TELEGRAM_BOT_TOKEN is malformed: expected digits, a colon and the secret "
            "(e.g. 123456789:AA...), as given by @BotFather.",
            file=sys.stderr,
        )
        return 2
    if problem := _schema_problem(settings, spool=True):
        print(problem, file=sys.stderr)
        return 2
    from handlers.runner import run_telegram

    return run_telegram(settings)


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy.exc import OperationalError

    from bot.reports.stats import Quarter
    from bot.store.records import DatabaseUnavailable

    try:
        today = vietnam_today()
        quarter = Quarter.parse(args.quarter) if args.quarter else Quarter.current(today)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    if problem := _schema_problem(settings):
        print(problem, file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        with _services(settings) as services:
            stats = asyncio.run(services.reports.quarter(quarter))
            paths = asyncio.run(services.reports.report(stats, out))
    except (OperationalError, DatabaseUnavailable) as exc:
        print(f"Cannot read the database: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    return 0


def _week_arg(text: str) -> Week:
    """A bad --week is a usage error (one line, exit 2), checked before any database work."""
    try:
        return Week.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _week(args: argparse.Namespace, settings: Settings) -> Week:

    if args.week:
        return cast(Week, args.week)
    return Week.current(vietnam_today())


@contextmanager
def _services(settings: Settings) -> Iterator[Services]:
    """The same container the bot opens (one engine, with the configured timeouts)."""
    from bot.services import Services

    services = Services.open(settings, warm=False)
    try:
        yield services
    finally:
        services.close()


def _composed(service: BulletinService, week: Week) -> int:
    """The week's bulletin with its folder read again; unreadable item files are listed."""
    bulletin_id, problems = service.compose(week)
    for bad in problems:
        print(bad, file=sys.stderr)
    return bulletin_id


def _bulletin_import(args: argparse.Namespace, settings: Settings) -> int:
    if problem := _schema_problem(settings):
        print(problem, file=sys.stderr)
        return 2
    try:
        week = _week(args, settings)
        with _services(settings) as services:
            _, count, problems = services.bulletins.import_eping(Path(args.file), week)
    except (ValueError, OSError) as exc:
        print(exc, file=sys.stderr)
        return 2
    for bad in problems:
        print(bad, file=sys.stderr)
    print(f"{count} notification(s) of {week.key} imported, {len(problems)} row(s) skipped")
    return 0


def _bulletin_preview(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bulletin.render import html_to_text

    if problem := _schema_problem(settings):
        print(problem, file=sys.stderr)
        return 2
    week = _week(args, settings)
    with _services(settings) as services:
        parts = services.bulletins.preview(_composed(services.bulletins, week), week)
    if not parts:
        print(f"The bulletin of {week.key} has no item yet.", file=sys.stderr)
        return 1
    print("\n\n---\n\n".join(html_to_text(part) for part in parts))
    return 0


def _bulletin_send(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.telegram_token:
        print("TELEGRAM_BOT_TOKEN is not set: it is needed to send the bulletin.", file=sys.stderr)
        return 2
    if problem := _schema_problem(settings):
        print(problem, file=sys.stderr)
        return 2
    week = _week(args, settings)
    with _services(settings) as services:
        return _send(services.bulletins, week, settings)


def _send(service: BulletinService, week: Week, settings: Settings) -> int:
    from tqdm import tqdm

    from handlers.sender import TelegramSender

    bulletin_id = _composed(service, week)
    if not service.items(bulletin_id):
        print(f"The bulletin of {week.key} has no item to send.", file=sys.stderr)
        return 1
    service.repository.set_status(bulletin_id, "approved")
    done = {"sent", "failed", "inactive"}

    async def send() -> dict[str, int]:
        assert settings.telegram_token is not None
        with tqdm(unit="recipient", desc=f"Bulletin {week.key}") as bar:
            shown = 0.0

            def refresh() -> None:
                counts = service.repository.progress(bulletin_id)
                bar.total = sum(counts.values())
                bar.n = sum(counts[status] for status in done)
                bar.refresh()

            def update(_progress: object) -> None:
                nonlocal shown
                if time.monotonic() - shown >= 1.0:  # one count a second, not one per message
                    shown = time.monotonic()
                    refresh()

            async with TelegramSender(
                settings.telegram_token, settings.telegram_base_url
            ) as sender:
                result = await service.send(bulletin_id, sender, update)
            refresh()
            return result.counts

    counts = asyncio.run(send())
    print(
        f"sent {counts['sent']}, failed {counts['failed']}, inactive {counts['inactive']}, "
        f"pending {counts['pending'] + counts['claimed']}"
    )
    return 0 if not counts["failed"] else 1


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy.exc import OperationalError

    from bot.store.database import upgrade

    existed = _database_exists(settings.database_url)
    try:
        upgrade(settings.database_url)
    except OperationalError as exc:
        print(f"Cannot reach the database: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    if not existed:
        print(f"Created the database: {_shown_url(settings.database_url)}", file=sys.stderr)
    print("Database schema is up to date.", file=sys.stderr)
    return 0


def _database_exists(url: str) -> bool:
    """For SQLite, whether the file is there before the upgrade; other servers exist already."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return True
    database = parsed.database or ""
    return database not in ("", ":memory:") and Path(database).exists()


def _shown_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
