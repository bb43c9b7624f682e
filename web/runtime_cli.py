"""``flask --app web start | message | signal``: the runtime API on the command line, acting as a named user with
that user's permissions (the same service calls as POST /api/processes/<key>/start, /api/messages and
/api/signals). Every record is printed on one line, whatever names it contains."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click
from flask.cli import with_appcontext

from engine.errors import EngineError, FormError, one_line
from engine.projection import CommandResult
from engine.starting import choose_start_event, start_form
from meeting.runtime import actor_for
from web.services import database, workflow

USER_OPTION = click.option("--as", "username", required=True, help="The user acting (their permissions apply).")
VAR_OPTION = click.option("--var", "pairs", multiple=True, metavar="NAME=VALUE",
                          help="A variable or start-form field; VALUE is read as JSON when it is JSON, else as text.")


def register_runtime_cli(app: Any) -> None:
    app.cli.add_command(start_command)
    app.cli.add_command(message_command)
    app.cli.add_command(signal_command)


def parse_pairs(pairs: tuple[str, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"“{pair}”应写成 名称=值", param_hint="--var")
        try:
            values[name.strip()] = json.loads(raw)
        except ValueError:
            values[name.strip()] = raw
    return values


def _run(command: Callable[[], Any]) -> Any:
    """A service call; a refusal is printed as one line per problem (field: message) and exits 1."""
    try:
        return command()
    except FormError as exc:
        for field, message in exc.errors.items():
            click.echo(one_line(f"{field}: {message}"), err=True)
        sys.exit(1)
    except EngineError as exc:
        click.echo(one_line(exc.message), err=True)
        sys.exit(1)


def _print_result(verb: str, result: CommandResult) -> None:
    click.echo(one_line(f"{verb} {result.instance_id} {result.status}"
                        + (f" business_key={result.business_key}" if result.business_key else "")))
    if result.ready_tasks:
        for task in workflow().instance_tasks(result.instance_id):
            if task.state == "READY":
                click.echo(one_line(f"task {task.id} {task.name}"))


def _prompt_form(key: str, start_event: str | None, values: dict[str, Any]) -> dict[str, Any]:
    """Ask for each field of the start form not given with --var (an empty answer leaves it to the default)."""
    from engine.deployment import latest_model

    with database().sessions() as s:
        event = choose_start_event(latest_model(s, key), start_event)
    for f in start_form(event).fields:
        if f.id in values or f.readonly:
            continue
        hint = f" [{'/'.join(i for i, _ in f.options)}]" if f.options else ""
        answer = click.prompt(one_line(f"{f.label}{hint}"), default="", show_default=False)
        if answer != "":
            values[f.id] = answer
    return values


@click.command("start")
@with_appcontext
@click.argument("key")
@USER_OPTION
@VAR_OPTION
@click.option("--event", "start_event", default=None, help="The start event's id (default: the none start event).")
@click.option("--business-key", default=None)
@click.option("--form", "ask", is_flag=True, help="Ask for the start form's fields one by one.")
def start_command(key: str, username: str, pairs: tuple[str, ...], start_event: str | None,
                  business_key: str | None, ask: bool) -> None:
    """Start process KEY; --var gives the start form's fields (validated as on the start page)."""
    values = parse_pairs(pairs)
    actor = _run(lambda: actor_for(database(), username))
    if ask:
        values = _run(lambda: _prompt_form(key, start_event, values))
    result = _run(lambda: workflow().start(key, actor, start_event=start_event, business_key=business_key,
                                           form_values=values))
    _print_result("started", result)


@click.command("message")
@with_appcontext
@click.argument("name")
@USER_OPTION
@VAR_OPTION
@click.option("--business-key", default=None)
@click.option("--instance", "instance_id", default=None)
def message_command(name: str, username: str, pairs: tuple[str, ...], business_key: str | None,
                    instance_id: str | None) -> None:
    """Deliver message NAME to the instance waiting for it, or start a process with that message."""
    actor = _run(lambda: actor_for(database(), username))
    result = _run(lambda: workflow().send_message(name, actor, parse_pairs(pairs), business_key=business_key,
                                                  instance_id=instance_id))
    _print_result("delivered", result)


@click.command("signal")
@with_appcontext
@click.argument("name")
@USER_OPTION
@VAR_OPTION
def signal_command(name: str, username: str, pairs: tuple[str, ...]) -> None:
    """Broadcast signal NAME (managers only)."""
    actor = _run(lambda: actor_for(database(), username))
    result = _run(lambda: workflow().send_signal(name, actor, parse_pairs(pairs)))
    for instance_id in result.delivered:
        click.echo(f"delivered {instance_id}")
    for instance_id in result.started:
        click.echo(f"started {instance_id}")
