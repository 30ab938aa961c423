"""``motcua``: staff tokens, dead letters, event schemas; the dev stack adds ``up``."""

from __future__ import annotations

import asyncio
import json
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated

import typer

from motcua_kit.auth import Role, create_dev_keys, mint_token
from motcua_kit.settings import KafkaSettings

app = typer.Typer(help="motcua: the one-stop shop platform of a province.", no_args_is_help=True)
dlq = typer.Typer(help="Dead letters: list, inspect and replay.", no_args_is_help=True)
schemas = typer.Typer(help="Event schemas.", no_args_is_help=True)
app.add_typer(dlq, name="dlq")
app.add_typer(schemas, name="schemas")

KeysDir = Annotated[Path, typer.Option(help="Where the local signing key lives.", envvar="MOTCUA_KEYS_DIR")]
Bootstrap = Annotated[str, typer.Option(help="Kafka bootstrap servers.", envvar="MOTCUA_KAFKA_BOOTSTRAP")]
Service = Annotated[str, typer.Option(help="Service whose dead letters to read.")]
TopicPrefix = Annotated[
    str, typer.Option(help="Topic prefix the services run with (usually none).", envvar="MOTCUA_TOPIC_PREFIX")
]


def _kafka(bootstrap: str, topic_prefix: str) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=topic_prefix)


@app.command()
def token(
    role: Annotated[Role, typer.Option(help="Staff role.")],
    scope: Annotated[str, typer.Option(help="Centre or agency code the staff member works for.")],
    subject: Annotated[str | None, typer.Option(help="User id (default: role@scope).")] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    ttl_hours: Annotated[int, typer.Option(min=1, max=24 * 30)] = 12,
    keys_dir: KeysDir = Path(".motcua/keys"),
) -> None:
    """Print a staff token signed with the local key (embedded default only)."""
    create_dev_keys(keys_dir)
    typer.echo(mint_token(keys_dir, role=role, scope=scope, subject=subject, name=name, ttl_seconds=ttl_hours * 3600))


@dlq.command("list")
def dlq_list(service: Service, bootstrap: Bootstrap = "127.0.0.1:9092", topic_prefix: TopicPrefix = "") -> None:
    """One line per dead letter: reference, event, consumer, attempts, error."""
    from motcua_kit.deadletters import read_dead_letters

    letters = asyncio.run(read_dead_letters(_kafka(bootstrap, topic_prefix), service))
    for letter in letters:
        s = letter.summary()
        typer.echo(
            f"{s['ref']}\t{s['event_type']}\t{s['key']}\t{s['consumer']}\tattempts={s['attempts']}\t"
            f"{s['error_type']}: {s['error'][:120]}"
        )
    typer.echo(f"{len(letters)} dead letter(s) in {service}.deadletter", err=True)


@dlq.command("show")
def dlq_show(
    ref: Annotated[str, typer.Argument(help="partition:offset or event id")],
    service: Service,
    bootstrap: Bootstrap = "127.0.0.1:9092",
    topic_prefix: TopicPrefix = "",
) -> None:
    """The dead letter's headers, error and body."""
    from motcua_kit.deadletters import read_dead_letters

    letters = asyncio.run(read_dead_letters(_kafka(bootstrap, topic_prefix), service))
    found = [d for d in letters if d.matches(ref)]
    if not found:
        typer.echo(f"no dead letter {ref} in {service}.deadletter", err=True)
        raise typer.Exit(1)
    letter = found[0]
    try:
        body = json.loads(letter.value)
    except ValueError:
        body = letter.value.decode(errors="replace")
    typer.echo(json.dumps({**letter.summary(), "body": body}, indent=2, ensure_ascii=False))


@dlq.command("replay")
def dlq_replay(
    service: Service,
    ref: Annotated[str | None, typer.Argument(help="partition:offset or event id")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Replay every dead letter.")] = False,
    bootstrap: Bootstrap = "127.0.0.1:9092",
    topic_prefix: TopicPrefix = "",
) -> None:
    """Publish dead letters again to their original topic."""
    from motcua_kit.deadletters import read_dead_letters, replay

    if not ref and not all_:
        typer.echo("give a dead letter reference or --all", err=True)
        raise typer.Exit(2)
    kafka = _kafka(bootstrap, topic_prefix)
    letters = asyncio.run(read_dead_letters(kafka, service))
    chosen = letters if all_ else [d for d in letters if ref and d.matches(ref)]
    if not chosen:
        typer.echo("nothing to replay", err=True)
        raise typer.Exit(1)
    count = asyncio.run(replay(kafka, chosen))
    typer.echo(f"replayed {count} event(s)")


@schemas.command("export")
def schemas_export(out: Annotated[Path, typer.Option(help="Output folder.")] = Path("docs/events")) -> None:
    """Write the JSON Schema of every event and the AsyncAPI document of every topic."""
    from motcua_kit.events.export import export

    for path in export(out):
        typer.echo(str(path))


def _load_plugins() -> None:
    """Other installed packages (the dev stack) add commands through the ``motcua.cli`` entry points."""
    for ep in entry_points(group="motcua.cli"):
        ep.load()(app)


def main() -> None:
    _load_plugins()
    app()
