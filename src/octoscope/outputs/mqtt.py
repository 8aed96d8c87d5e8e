"""Home Assistant through MQTT discovery: entities per account, meter point and Intelligent Octopus device,
their states, availability with a last will, and configs sent again when Home Assistant announces itself.

Topics (``base`` is ``[mqtt] base_topic``, ``octoscope`` by default; ``prefix`` is the discovery prefix):

- ``<prefix>/<component>/<unique_id>/config``: one retained discovery config per entity (per-entity
  discovery, which every Home Assistant since 2021 reads; device discovery arrived in 2024.11 or .12).
- ``<base>/status``: ``online`` (retained) once connected; ``offline`` on a clean stop, and from the broker
  (the last will) when the process dies without one.
- ``<base>/<account>/...``: retained JSON states, one topic per group (prices, a meter point's energy, a
  device's dispatches, the sync's health); each entity picks its value with a ``value_template``.
- ``<base>/<account>/cmd/refresh_dispatches``: the button; a press asks for a dispatch refresh within the
  limits every caller shares (one a minute, twenty an hour).

Publishing reads the store (``facts``) and sends no request to Octopus; only a button press does, through the
same refresh the scheduler and the CLI use.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiomqtt

from octoscope import __version__
from octoscope.clock import Clock
from octoscope.config import Settings
from octoscope.config_outputs import MqttSettings
from octoscope.domain.uktime import UK, local_date, local_midnight
from octoscope.live.service import Feed, LiveService
from octoscope.outputs.facts import Facts, read_facts
from octoscope.services.costing import CostError
from octoscope.store.ports import StoreProtocol

log = logging.getLogger(__name__)

ORIGIN = {"name": "octoscope", "sw": __version__, "url": "https://github.com/octoscope/octoscope"}
MANUFACTURER = "Octopus Energy (via octoscope)"


def slug(text: str) -> str:
    """A part of an id or topic: lower case, ``[a-z0-9_]`` only (Home Assistant allows ``[a-zA-Z0-9_-]``)."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


@dataclass(frozen=True)
class Message:
    topic: str
    payload: str
    retain: bool = True


def _fuel_names(fuel: str) -> tuple[str, str, str]:
    """(noun, the point's device name, the cost word) for a fuel."""
    return {
        "electricity": ("Import", "Electricity", "cost"),
        "export": ("Export", "Electricity export", "earnings"),
        "gas": ("Gas", "Gas", "cost"),
    }[fuel]


class Topics:
    def __init__(self, options: MqttSettings, account: str) -> None:
        self.prefix = options.discovery_prefix
        self.base = options.base_topic
        self.account = slug(account)
        self.status = f"{self.base}/status"
        # Home Assistant's birth topic is homeassistant/status whatever the discovery prefix, unless changed
        # too: listen on both.
        self.ha_status = tuple(dict.fromkeys((f"{self.prefix}/status", "homeassistant/status")))
        self.root = f"{self.base}/{self.account}"
        self.prices = f"{self.root}/prices"
        self.tomorrow = f"{self.root}/prices/tomorrow"
        self.health = f"{self.root}/health"
        self.refresh = f"{self.root}/cmd/refresh_dispatches"
        self.live = f"{self.root}/live"

    def energy(self, point: str) -> str:
        return f"{self.root}/{slug(point)}/energy"

    def device(self, device: str) -> str:
        return f"{self.root}/intelligent/{slug(device)}"

    def config(self, component: str, unique_id: str) -> str:
        return f"{self.prefix}/{component}/{unique_id}/config"


def discovery(facts: Facts, options: MqttSettings) -> list[Message]:
    """Every entity's retained discovery config, for the account's current meter points and devices.

    Ids depend only on the account, the MPAN/MPRN or device id and what the entity is, so they stay the same
    across restarts and upgrades; Home Assistant keeps the entities' history and settings by them."""
    t = Topics(options, facts.account)
    acct = t.account
    availability = {"avty_t": t.status, "pl_avail": "online", "pl_not_avail": "offline"}
    out: list[Message] = []

    def add(component: str, uid: str, device: dict[str, Any], **config: Any) -> None:
        payload = {"uniq_id": uid, "obj_id": uid, **availability, "dev": device, "o": ORIGIN, **config}
        out.append(Message(t.config(component, uid), json.dumps(payload, sort_keys=True)))

    account_device = {
        "ids": [f"octoscope_{acct}"],
        "name": f"Octopus account {facts.account}",
        "mf": MANUFACTURER,
        "mdl": "Account",
        "sw": __version__,
    }
    for point in facts.points:
        noun, device_name, money = _fuel_names(point.fuel)
        pid = slug(point.id)
        device = {
            "ids": [f"octoscope_{acct}_{pid}"],
            "name": f"{device_name} {point.id}",
            "mf": MANUFACTURER,
            "mdl": "Gas meter point" if point.fuel == "gas" else "Electricity meter point",
            "via_device": f"octoscope_{acct}",
            **({"sn": point.serial} if point.serial else {}),
        }
        energy = t.energy(point.id)
        for day, label in (("today", "today"), ("yesterday", "yesterday")):
            kwh: dict[str, Any] = {
                "name": f"{noun} {label}",
                "stat_t": energy,
                "val_tpl": f"{{{{ value_json.{day}.kwh }}}}",
                "dev_cla": "energy",
                "unit_of_meas": "kWh",
                "sug_dsp_prc": 2,
                "json_attr_t": energy,
                "json_attr_tpl": f"{{{{ {{'date': value_json.{day}.date}} | tojson }}}}",
            }
            # Today's grows through the day and starts again at midnight: total_increasing. Yesterday's is one
            # whole day's total, a new cycle each midnight: total with its last_reset.
            if day == "today":
                kwh["stat_cla"] = "total_increasing"
            else:
                kwh["stat_cla"] = "total"
                kwh["lrst_val_tpl"] = f"{{{{ value_json.{day}.last_reset }}}}"
            add("sensor", f"octoscope_{acct}_{pid}_{day}_kwh", device, **kwh)
            add(
                "sensor",
                f"octoscope_{acct}_{pid}_{day}_{money}",
                device,
                name=f"{noun} {money} {label}",
                stat_t=energy,
                val_tpl=f"{{{{ value_json.{day}.cost_gbp }}}}",
                dev_cla="monetary",
                stat_cla="total",  # the only state class Home Assistant accepts for monetary
                lrst_val_tpl=f"{{{{ value_json.{day}.last_reset }}}}",
                unit_of_meas="GBP",
                sug_dsp_prc=2,
            )
        if point.fuel == "electricity" and facts.prices is not None:
            rate = {"dev_cla": "monetary", "unit_of_meas": "GBP/kWh", "sug_dsp_prc": 4, "stat_t": t.prices}
            add("sensor", f"octoscope_{acct}_{pid}_current_rate", device, name="Current rate",
                val_tpl="{{ value_json.current_gbp_per_kwh }}", json_attr_t=t.prices,
                json_attr_tpl="{{ {'start': value_json.current_start, 'end': value_json.current_end,"
                " 'tariff': value_json.tariff} | tojson }}", **rate)  # fmt: skip
            add("sensor", f"octoscope_{acct}_{pid}_next_rate", device, name="Next rate",
                val_tpl="{{ value_json.next_gbp_per_kwh }}", json_attr_t=t.prices,
                json_attr_tpl="{{ {'start': value_json.next_start, 'end': value_json.next_end} | tojson }}",
                **rate)  # fmt: skip
            add("sensor", f"octoscope_{acct}_{pid}_standing_charge_today", device, name="Standing charge today",
                stat_t=t.prices, val_tpl="{{ value_json.standing_today_gbp }}", dev_cla="monetary",
                unit_of_meas="GBP", sug_dsp_prc=4)  # fmt: skip
            add("sensor", f"octoscope_{acct}_{pid}_cheapest_start", device,
                name=f"Cheapest {options.cheapest_hours:g} h start", stat_t=t.prices,
                val_tpl="{{ value_json.cheapest_start }}", dev_cla="timestamp", json_attr_t=t.prices,
                json_attr_tpl="{{ {'end': value_json.cheapest_end, 'hours': value_json.cheapest_hours} | tojson }}",
                )  # fmt: skip
            add("sensor", f"octoscope_{acct}_{pid}_cheapest_average", device,
                name=f"Cheapest {options.cheapest_hours:g} h average rate",
                val_tpl="{{ value_json.cheapest_gbp_per_kwh }}", **rate)  # fmt: skip
            # Tomorrow's 46 to 50 half-hours as attributes (well under the recorder's 16 KiB); the state is
            # tomorrow's date once published, unknown until then.
            add("sensor", f"octoscope_{acct}_{pid}_tomorrow_rates", device, name="Tomorrow's rates",
                stat_t=t.tomorrow, val_tpl="{{ value_json.date }}", json_attr_t=t.tomorrow,
                json_attr_tpl="{{ {'rates': value_json.rates} | tojson }}", ic="mdi:calendar-clock")  # fmt: skip
    for device_id in facts.devices:
        did = slug(device_id)
        device = {
            "ids": [f"octoscope_{acct}_{did}"],
            "name": "Intelligent Octopus",
            "mf": MANUFACTURER,
            "mdl": "Intelligent Octopus device",
            "via_device": f"octoscope_{acct}",
        }
        topic = t.device(device_id)
        add("binary_sensor", f"octoscope_{acct}_{did}_dispatching", device, name="Dispatching", stat_t=topic,
            val_tpl="{{ value_json.dispatching }}", pl_on="ON", pl_off="OFF", dev_cla="running",
            json_attr_t=topic, json_attr_tpl="{{ {'planned_dispatches': value_json.planned} | tojson }}")  # fmt: skip
        add("sensor", f"octoscope_{acct}_{did}_state", device, name="Device state", stat_t=topic,
            val_tpl="{{ value_json.state }}", ic="mdi:ev-station")  # fmt: skip
        add("button", f"octoscope_{acct}_{did}_refresh", device, name="Refresh dispatches",
            cmd_t=t.refresh, pl_prs="PRESS", ent_cat="config", ic="mdi:refresh")  # fmt: skip
    health = {"stat_t": t.health, "ent_cat": "diagnostic"}
    add("sensor", f"octoscope_{acct}_last_sync", account_device, name="Last successful sync",
        val_tpl="{{ value_json.last_sync }}", dev_cla="timestamp", **health)  # fmt: skip
    add("sensor", f"octoscope_{acct}_data_age", account_device, name="Data age",
        val_tpl="{{ value_json.data_age_hours }}", dev_cla="duration", unit_of_meas="h", stat_cla="measurement",
        sug_dsp_prc=1, json_attr_t=t.health,
        json_attr_tpl="{{ {'data_until': value_json.data_until} | tojson }}", **health)  # fmt: skip
    add("sensor", f"octoscope_{acct}_graphql_used", account_device, name="GraphQL requests this hour",
        val_tpl="{{ value_json.graphql_used }}", unit_of_meas="requests", stat_cla="measurement",
        json_attr_t=t.health, json_attr_tpl="{{ {'limit': value_json.graphql_limit, 'rest_used':"
        " value_json.rest_used, 'rest_limit': value_json.rest_limit} | tojson }}", **health)  # fmt: skip
    add("binary_sensor", f"octoscope_{acct}_sync_problem", account_device, name="Sync problem",
        val_tpl="{{ 'ON' if value_json.last_outcome == 'failed' else 'OFF' }}", dev_cla="problem",
        **health)  # fmt: skip
    return out


def states(facts: Facts, options: MqttSettings) -> list[Message]:
    """The retained state topics for ``facts``: plain JSON, numbers in GBP and kWh, instants in ISO 8601 with
    the UK offset, ``null`` for what is not known (Home Assistant shows it as unknown)."""
    t = Topics(options, facts.account)
    out: list[Message] = []

    def put(topic: str, value: dict[str, Any]) -> None:
        out.append(Message(topic, json.dumps(value, sort_keys=True)))

    for point in facts.points:
        put(t.energy(point.id), facts.energy.get(point.fuel, {}))
    if facts.prices is not None:
        p = facts.prices
        current, following, window = p.get("current") or {}, p.get("next") or {}, p.get("cheapest") or {}
        put(
            t.prices,
            {
                "tariff": p.get("tariff"),
                "current_gbp_per_kwh": current.get("gbp_per_kwh"),
                "current_start": current.get("start"),
                "current_end": current.get("end"),
                "next_gbp_per_kwh": following.get("gbp_per_kwh"),
                "next_start": following.get("start"),
                "next_end": following.get("end"),
                "standing_today_gbp": p.get("standing_today_gbp"),
                "cheapest_start": window.get("start"),
                "cheapest_end": window.get("end"),
                "cheapest_hours": window.get("hours"),
                "cheapest_gbp_per_kwh": window.get("average_gbp_per_kwh"),
            },
        )
        tomorrow = p.get("tomorrow")
        put(
            t.tomorrow,
            {"date": None, "rates": []}
            if tomorrow is None
            else {
                "date": tomorrow["date"],
                "rates": [{"start": start, "p": round(pence, 4)} for start, pence in tomorrow["rates"]],
            },
        )
    for device_id, d in facts.dispatches.items():
        put(t.device(device_id), {**d, "dispatching": "ON" if d["dispatching"] else "OFF"})
    put(t.health, facts.health)
    return out


def live_discovery(facts: Facts, options: MqttSettings) -> list[Message]:
    """The Home Mini's entities, on the import meter point's device: demand now (W), and today's import from
    the recorded telemetry (``[live] record = true``; unknown otherwise)."""
    t = Topics(options, facts.account)
    out = []
    for point in facts.points:
        if point.fuel != "electricity":
            continue
        pid = slug(point.id)
        device = {"ids": [f"octoscope_{t.account}_{pid}"]}  # the point's device, described by its other entities
        common = {"avty_t": t.status, "pl_avail": "online", "pl_not_avail": "offline", "dev": device, "o": ORIGIN}
        for key, config in (
            ("demand", {"name": "Demand (Home Mini)", "val_tpl": "{{ value_json.demand_w }}", "dev_cla": "power",
                        "stat_cla": "measurement", "unit_of_meas": "W", "json_attr_t": t.live,
                        "json_attr_tpl": "{{ {'at': value_json.at, 'state': value_json.state} | tojson }}"}),
            ("live_today_kwh", {"name": "Import today (Home Mini)", "val_tpl": "{{ value_json.today_kwh }}",
                                "dev_cla": "energy", "stat_cla": "total_increasing", "unit_of_meas": "kWh",
                                "sug_dsp_prc": 3}),
        ):  # fmt: skip
            uid = f"octoscope_{t.account}_{pid}_{key}"
            payload = {"uniq_id": uid, "obj_id": uid, "stat_t": t.live, **common, **config}
            out.append(Message(t.config("sensor", uid), json.dumps(payload, sort_keys=True)))
    return out


def live_state(feed: Feed, store: StoreProtocol, clock: Clock) -> dict[str, Any]:
    """The newest reading the shared poller has, and today's import from recorded telemetry (None unless
    ``[live] record`` keeps every reading)."""
    newest = feed.hub.newest
    now = clock.now()
    status = feed.describe(clock())
    today_kwh = None
    if feed.service.settings.record and feed.device is not None:
        rows = store.telemetry(feed.device, local_midnight(local_date(now)), now)
        today_kwh = round(sum(r.delta_wh or 0.0 for r in rows) / 1000, 3)
    return {
        "demand_w": None if newest is None else round(newest.demand_w, 1),
        "at": None if newest is None else newest.at.astimezone(UK).isoformat(),
        "state": status.get("state"),
        "today_kwh": today_kwh,
    }


Refresh = Callable[[], Awaitable[str]]


@dataclass(frozen=True)
class Household:
    """One account's part of what ``serve`` publishes: its settings and store, what its button runs (the
    scheduler's dispatch job, if it has a key) and its Home Mini service. Its topics carry its number."""

    settings: Settings
    store: StoreProtocol
    refresh: Refresh | None = None
    live: LiveService | None = None

    @property
    def topics(self) -> Topics:
        assert self.settings.mqtt is not None
        return Topics(self.settings.mqtt, self.settings.require_account())


class Publisher:
    """Keeps a broker up to date for ``serve``: connects (with a last will), publishes ``online``, every config
    and every state, then the states every ``interval_seconds``,
    configs again when Home Assistant says ``online``, and reconnects with a growing pause when the broker
    goes away. ``refresh``: what the button does (the scheduler's dispatch job), if anything.

    One connection speaks for every account of the process (``others``: the accounts after the first): one
    client id and one ``<base>/status`` availability, each account's entities and states under its number."""

    def __init__(
        self,
        settings: Settings,
        store: StoreProtocol,
        clock: Clock,
        refresh: Refresh | None = None,
        live: LiveService | None = None,
        others: Sequence[Household] = (),
    ) -> None:
        """``live``: the app's Home Mini service; with ``[mqtt] live = true`` the publisher is one more viewer of
        its one poller (no poll of its own, the same ``[live]`` budget) and publishes each reading."""
        assert settings.mqtt is not None
        self.options: MqttSettings = settings.mqtt
        self.clock = clock
        self.households = (Household(settings, store, refresh, live), *others)
        self.topics = self.households[0].topics  # the process's status and Home Assistant's: the same for all
        self.published = 0  # messages, for the status page and the tests

    def facts(self, household: Household) -> Facts | None:
        try:
            return read_facts(
                household.store, household.settings, self.clock.now(), self.clock(), self.options.cheapest_hours
            )
        except CostError as err:  # nothing synced yet: only availability until there is
            log.info("MQTT: nothing to publish for %s yet (%s)", household.settings.account, err)
            return None

    async def _send(self, client: aiomqtt.Client, messages: list[Message]) -> None:
        for m in messages:
            await client.publish(m.topic, m.payload, qos=1, retain=m.retain)
            self.published += 1

    async def announce(self, client: aiomqtt.Client, configs: bool = True, only: Household | None = None) -> None:
        for household in self.households if only is None else (only,):
            facts = self.facts(household)
            if facts is None:
                continue
            if configs:
                await self._send(client, discovery(facts, self.options))
                if self.options.live and household.live is not None:
                    await self._send(client, live_discovery(facts, self.options))
            await self._send(client, states(facts, self.options))

    async def _listen(self, client: aiomqtt.Client) -> None:
        buttons = {h.topics.refresh: h for h in self.households}
        async for message in client.messages:
            payload = message.payload.decode() if isinstance(message.payload, bytes) else str(message.payload)
            if any(message.topic.matches(t) for t in self.topics.ha_status) and payload == "online":
                log.info("MQTT: Home Assistant is online; sending the configs again")
                await self.announce(client)
            elif message.topic.value in buttons and payload == "PRESS":
                await self._pressed(client, buttons[message.topic.value])

    async def _pressed(self, client: aiomqtt.Client, household: Household) -> None:
        if household.refresh is None:
            log.warning("MQTT: refresh pressed, but this process has no API key to ask Octopus with")
            return
        outcome = await household.refresh()
        log.info("MQTT: dispatch refresh: %s", outcome)
        await self.announce(client, configs=False, only=household)

    async def session(self) -> None:
        """One connection: announce, then keep the states fresh until the connection drops."""
        async with connect(self.options) as client:
            await client.publish(self.topics.status, "online", qos=1, retain=True)
            for topic in self.topics.ha_status:
                await client.subscribe(topic, qos=1)
            for household in self.households:
                await client.subscribe(household.topics.refresh, qos=1)
            await self.announce(client)
            listener = asyncio.create_task(self._listen(client))
            watchers = [
                asyncio.create_task(self._watch_live(client, h, h.live))
                for h in self.households
                if self.options.live and h.live is not None
            ]
            try:
                while not listener.done():
                    pause = asyncio.create_task(self.clock.sleep(self.options.interval_seconds))
                    await asyncio.wait([pause, listener], return_when=asyncio.FIRST_COMPLETED)
                    pause.cancel()
                    if not listener.done():
                        await self.announce(client, configs=False)
                listener.result()  # the connection's error, if that is what ended it
            finally:
                for task in (listener, *watchers):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                        await task
                with contextlib.suppress(aiomqtt.MqttError):
                    await client.publish(self.topics.status, "offline", qos=1, retain=True)

    async def _watch_live(self, client: aiomqtt.Client, household: Household, live: LiveService) -> None:
        """A viewer of the Home Mini's feed while connected: each new reading (or a minute without one: the
        status) is published on ``<base>/<account>/live``."""
        topic = household.topics.live
        async with live.watch() as subscription:
            while True:
                await subscription.next(60.0)
                feed = live.feed()
                await self._send(client, [Message(topic, json.dumps(live_state(feed, household.store, self.clock)))])

    async def run_forever(self) -> None:
        pause = 1.0
        while True:
            try:
                await self.session()
                pause = 1.0
            except aiomqtt.MqttError as err:
                log.warning(
                    "MQTT broker %s:%s: %s; trying again in %.0f s", self.options.host, self.options.port, err, pause
                )
            except Exception:  # a bug (or the store unreadable for a moment) must not stop serve: logged in full
                log.exception("MQTT publishing failed; trying again in %.0f s", pause)
            await self.clock.sleep(pause)
            pause = min(pause * 2, 300.0)


def connect(options: MqttSettings) -> aiomqtt.Client:
    """A client for the broker, with ``offline`` as its last will (retained), so that Home Assistant marks
    every entity unavailable when octoscope dies without saying goodbye."""
    return aiomqtt.Client(
        options.host,
        options.port,
        username=options.username,
        password=None if options.password is None else options.password.reveal(),
        identifier=options.client_id,
        will=aiomqtt.Will(f"{options.base_topic}/status", "offline", qos=1, retain=True),
        tls_context=ssl.create_default_context() if options.tls else None,
        timeout=10,
        keepalive=30,
    )


async def publish_once(settings: Settings, store: StoreProtocol, clock: Clock) -> int:
    """Connect, publish ``online``, every config and every state, and leave (``octoscope mqtt publish
    --once``, for cron). Returns the number of messages."""
    publisher = Publisher(settings, store, clock)
    async with connect(publisher.options) as client:
        await client.publish(publisher.topics.status, "online", qos=1, retain=True)
        await publisher.announce(client)
    return publisher.published + 1
