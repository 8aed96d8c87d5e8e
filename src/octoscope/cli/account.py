"""``octoscope init``: check the API key and account number, show what the account holds, write the config file."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from octoscope.cli.shell import fail, process_clock, read_settings, user_errors

if TYPE_CHECKING:
    from octoscope.config import Settings

__all__ = ["init"]


def init(
    api_key: Annotated[str | None, typer.Option(help="Your API key (else OCTOSCOPE_API_KEY, else asked).")] = None,
    account: Annotated[str | None, typer.Option(help="Your account number, like A-1234ABCD.")] = None,
    api_url: Annotated[str | None, typer.Option(help="REST base URL (another Kraken supplier, the simulator).")] = None,
    graphql_url: Annotated[str | None, typer.Option(help="GraphQL URL.")] = None,
    db: Annotated[str | None, typer.Option(help="The SQLite file to keep data in.")] = None,
) -> None:
    """Check your API key and account number, show what the account holds, and write the config file.

    Example: octoscope init --account A-1234ABCD
    """
    from octoscope.config import write_config  # noqa: PLC0415

    with user_errors():
        settings = read_settings(
            plain=True, api_key=api_key, account=account, api_url=api_url, graphql_url=graphql_url, db=db
        )
        if settings.api_key is None:
            settings = read_settings(
                plain=True,
                api_key=_ask("API key (sk_live_...)", "api-key", hide=True),
                account=account,
                api_url=api_url,
                graphql_url=graphql_url,
                db=db,
            )
        if settings.account is None:
            settings = read_settings(
                plain=True,
                api_key=settings.api_key.reveal() if settings.api_key else None,
                account=_ask("Account number", "account"),
                api_url=api_url,
                graphql_url=graphql_url,
                db=db,
            )
        import asyncio  # noqa: PLC0415 (not on every command's start)

        found = asyncio.run(_discover(settings))
        for line in found:
            typer.echo(line)
        path = write_config(settings)
        typer.echo(f"Wrote {path} (readable by you only). Next: octoscope sync")


def _ask(prompt: str, option: str, hide: bool = False) -> str:
    if not sys.stdin.isatty():
        raise fail(f"--{option} not given: pass it, or set OCTOSCOPE_{option.upper().replace('-', '_')}")
    return str(typer.prompt(prompt, hide_input=hide))


async def _discover(settings: Settings) -> list[str]:
    from octoscope.sync import discover  # noqa: PLC0415
    from octoscope.wiring import open_account_store, open_octopus  # noqa: PLC0415

    _, number = settings.require_credentials()
    clock = process_clock()
    with open_account_store(settings, clock) as store:
        async with open_octopus(settings, store, clock) as octopus:
            await octopus.graphql.token()  # checks the key on GraphQL too, and keeps the token for later
            account = await discover(octopus.clients, store, number, clock.now(), refresh=True)
    lines = [
        f"Account {account.number}: {len(account.properties)} propert{'y' if len(account.properties) == 1 else 'ies'}"
    ]
    for prop in account.properties:
        state = "current" if prop.moved_out_at is None else f"moved out {prop.moved_out_at:%Y-%m-%d}"
        lines.append(f"  Property {prop.id} {prop.postcode} ({state})")
        for point in prop.meter_points:
            lines.append(f"    {point.fuel} {point.direction} {point.identifier} (unit: {point.unit or 'unknown'})")
            for meter in point.meters:
                eui = f", smart meter device id {meter.device_id}" if meter.device_id else ""
                lines.append(f"      meter {meter.serial}{eui}")
            for agreement in point.agreements:
                until = f"{agreement.valid_to:%Y-%m-%d}" if agreement.valid_to else "now"
                lines.append(f"      tariff {agreement.tariff_code} {agreement.valid_from:%Y-%m-%d} to {until}")
    for device in account.devices:
        lines.append(
            f"  Intelligent device {device.id}: {device.provider} {device.make or ''} {device.model or ''}"
            f" ({device.state or device.status or 'unknown state'})"
        )
    return lines
