"""``octoscope mqtt publish|show`` (Home Assistant through MQTT, for cron users and for a look at what is
published) and ``octoscope notify send|test``, registered on the main app by :func:`register`. They read the
database only: no Octopus request."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from octoscope.cli.shell import echo_json, fail, process_clock, read_settings, require_database, user_errors

if TYPE_CHECKING:
    from octoscope.config import Settings

mqtt_app = typer.Typer(help="Home Assistant entities through an MQTT broker (MQTT discovery).", no_args_is_help=True)
notify_app = typer.Typer(help="Notifications through Apprise, by the rules in [notify].", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(mqtt_app, name="mqtt")
    app.add_typer(notify_app, name="notify")


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    import aiomqtt  # noqa: PLC0415

    with user_errors():
        try:
            yield
        except aiomqtt.MqttError as err:
            raise fail(f"the MQTT broker: {err} (check [mqtt] host, port, username and password)") from None


def _settings(section: str) -> Settings:
    settings = read_settings()
    settings.require_account()
    if getattr(settings, section) is None:
        hint = (
            '[mqtt] host = "127.0.0.1" (or OCTOSCOPE_MQTT_HOST)'
            if section == "mqtt"
            else '[notify] urls = ["ntfy://my-topic"] (or OCTOSCOPE_NOTIFY_URLS)'
        )
        raise fail(f"no [{section}] settings: add {hint} to the config file")
    require_database(settings)
    return settings


@mqtt_app.command("publish")
def publish(
    once: Annotated[bool, typer.Option("--once", help="Publish everything once and exit (for cron).")] = False,
) -> None:
    """Publish the discovery configs, `online` and every state to the [mqtt] broker, from the database.

    `serve` does this all the time when [mqtt] is set; this is for running it from cron after `octoscope sync`.

    Example: octoscope mqtt publish --once
    """
    from octoscope.outputs.mqtt import publish_once  # noqa: PLC0415
    from octoscope.wiring import open_account_store  # noqa: PLC0415

    if not once:
        raise fail("add --once (`octoscope serve` is the publisher that stays on)")
    with _errors():
        settings = _settings("mqtt")
        clock = process_clock()
        with open_account_store(settings, clock) as store:
            import asyncio  # noqa: PLC0415 (not on every command's start)

            count = asyncio.run(publish_once(settings, store, clock))
    assert settings.mqtt is not None
    typer.echo(f"Published {count} messages to {settings.mqtt.host}:{settings.mqtt.port}")


@mqtt_app.command("show")
def show() -> None:
    """Print, as JSON, the discovery configs and the states that would be published now (no broker needed).

    Example: octoscope mqtt show
    """
    from dataclasses import replace  # noqa: PLC0415

    from octoscope.config_outputs import MqttSettings  # noqa: PLC0415
    from octoscope.outputs.facts import read_facts  # noqa: PLC0415
    from octoscope.outputs.mqtt import discovery, states  # noqa: PLC0415
    from octoscope.wiring import open_account_store  # noqa: PLC0415

    with _errors():
        settings = read_settings()
        settings.require_account()
        require_database(settings)
        options = settings.mqtt or MqttSettings()
        settings = replace(settings, mqtt=options)
        clock = process_clock()
        with open_account_store(settings, clock) as store:
            facts = read_facts(store, settings, clock.now(), clock(), options.cheapest_hours)
    echo_json(
        {
            "configs": {m.topic: json.loads(m.payload) for m in discovery(facts, options)},
            "states": {m.topic: json.loads(m.payload) for m in states(facts, options)},
            "problems": facts.problems,
        }
    )


@notify_app.command("send")
def send() -> None:
    """Send the notifications the [notify] rules have now and that were not sent before (each event once).

    `serve` does this each minute when [notify] is set; this is for cron.

    Example: octoscope notify send
    """
    from octoscope.outputs.notify import notify_round  # noqa: PLC0415
    from octoscope.wiring import open_account_store  # noqa: PLC0415

    with _errors():
        settings = _settings("notify")
        clock = process_clock()
        with open_account_store(settings, clock) as store:
            import asyncio  # noqa: PLC0415 (not on every command's start)

            outcome = asyncio.run(notify_round(settings, store, clock))
    typer.echo(
        f"Sent {len(outcome.sent)}, held back by the hourly limit {len(outcome.held)}, failed {len(outcome.failed)}"
    )
    for key in outcome.sent:
        typer.echo(f"  sent {key}")
    if outcome.failed:
        raise typer.Exit(1)
