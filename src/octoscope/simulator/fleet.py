"""A fleet: N accounts generated from a seed, for tests and benchmarks of many accounts in one process.

Account ``i`` is a pure function of (seed, i, the scenario's products, the clock's start day): nothing is
made until a request names it, so a fleet of a million starts as fast as one of ten. Every identifier the
API is asked about (account number, API key, MPAN, MPRN, Home Mini, EV) carries the account's index, so the
world finds the account it belongs to without a table of them all.

The mix, across any 25 consecutive accounts at least and otherwise at random: every import tariff kind
(flexible, fixed, agile, go, intelligent, tracker, cosy), gas (SMETS1 in kWh or SMETS2 in m³) on most,
solar export on some, EVs (always on Intelligent, so with dispatches) on some, meter exchanges and house
moves on some, between 13 and 25 months of history.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime

from octoscope.simulator.household import _stable_seed
from octoscope.simulator.scenario import (
    REGIONS,
    AccountSpec,
    AgreementSpec,
    ApplianceSpec,
    ElectricityPointSpec,
    EVSpec,
    FleetSpec,
    GasPointSpec,
    HouseholdSpec,
    MeterSpec,
    ProductSpec,
    PropertySpec,
    RegisterSpec,
    Window,
)
from octoscope.simulator.timeutil import parse_scenario_instant

__all__ = ["IMPORT_KINDS", "Fleet", "fleet_keys"]

IMPORT_KINDS = ("flexible", "fixed", "agile", "go", "intelligent", "tracker", "cosy")
# A fleet is regional (an installer, a housing association): three regions per seed keep the simulator's
# price cache small whatever N is.
REGIONS_PER_FLEET = 3
EV_MODELS = (
    ("OHME", "Ohme", "Home Pro", 7.0),
    ("MYENERGI", "myenergi", "zappi", 7.4),
    ("WALLBOX", "Wallbox", "Pulsar", 11.0),
)
_NUMBER = re.compile(r"A-F([0-9A-F]{7})")
_KEY = re.compile(r"sk_test_fleet(\d{7})_([0-9a-f]{24})")
_MPAN = re.compile(r"17(\d{7})[01][12]00")
_MPRN = re.compile(r"7(\d{7})[01]")
_MINI = re.compile(r"FA-FE-([0-9A-F]{2})-([0-9A-F]{2})-([0-9A-F]{2})-0[01]-00-0[12]")
_EV = re.compile(r"00000000-0000-4000-8000-f(\d{7})[0-9a-f]{4}")


def _key_tag(seed: int, index: int) -> str:
    return hmac.new(f"octoscope-fleet:{seed}".encode(), str(index).encode(), hashlib.sha256).hexdigest()[:24]


def fleet_key(seed: int, index: int) -> str:
    return f"sk_test_fleet{index:07d}_{_key_tag(seed, index)}"


def fleet_number(index: int) -> str:
    return f"A-F{index:07X}"


def fleet_keys(accounts: int, seed: int) -> Iterator[tuple[str, str]]:
    """(account number, API key) of every account of a fleet, in index order: what a benchmark signs in with."""
    for i in range(accounts):
        yield fleet_number(i), fleet_key(seed, i)


class Fleet:
    """The accounts of a ``[fleet]``, made on demand (the world keeps the few in use)."""

    def __init__(self, spec: FleetSpec, products: tuple[ProductSpec, ...], anchor: datetime) -> None:
        self.spec = spec
        self.anchor = anchor
        by_kind: dict[str, str] = {}
        for product in products:
            by_kind.setdefault(product.kind, product.code)
        self.products = by_kind  # kind -> the first product of that kind; flexible stands in for a missing one
        pick = random.Random(_stable_seed(spec.seed, "fleet-regions"))
        self.regions = tuple(pick.sample(REGIONS, REGIONS_PER_FLEET))

    def __len__(self) -> int:
        return self.spec.accounts

    def _valid(self, index: int) -> int | None:
        return index if 0 <= index < self.spec.accounts else None

    # --- identifiers back to the account's index ---------------------------------------------------------

    def index_of_number(self, number: str) -> int | None:
        m = _NUMBER.fullmatch(number)
        return self._valid(int(m.group(1), 16)) if m else None

    def index_of_key(self, key: str) -> int | None:
        m = _KEY.fullmatch(key)
        if m is None:
            return None
        index = int(m.group(1))
        if not hmac.compare_digest(m.group(2), _key_tag(self.spec.seed, index)):
            return None
        return self._valid(index)

    def index_of_point(self, fuel: str, ident: str) -> int | None:
        m = (_MPAN if fuel == "electricity" else _MPRN).fullmatch(ident)
        return self._valid(int(m.group(1))) if m else None

    def index_of_device(self, device_id: str) -> int | None:
        """A Home Mini's or an EV's index."""
        m = _MINI.fullmatch(device_id)
        if m:
            return self._valid(int("".join(m.groups()), 16))
        m = _EV.fullmatch(device_id)
        return self._valid(int(m.group(1))) if m else None

    # --- one account -------------------------------------------------------------------------------------

    def _day(self, days_back: int) -> datetime:
        return parse_scenario_instant(f"-{days_back}d", self.anchor)

    def _tariff(self, kind: str, fuel: str, region: str) -> str:
        code = self.products.get(kind) or self.products["flexible"]
        return f"{'E' if fuel == 'electricity' else 'G'}-1R-{code}-{region}"

    def account(self, i: int) -> AccountSpec:
        """Account ``i``: the same seed and index always give the same account."""
        rng = random.Random(_stable_seed(self.spec.seed, "fleet", i))
        # Every draw is made whatever the outcome, so that one feature's odds never shift another's.
        region = self.regions[rng.randrange(len(self.regions))]
        kind = IMPORT_KINDS[(i + self.spec.seed) % len(IMPORT_KINDS)]
        history = rng.randint(400, 760)  # days: 13 to 25 months
        gas_draw, export_draw, ev_draw, move_draw, exchange_draw = (rng.random() for _ in range(5))
        switch_draw, mini_draw, smets_draw = rng.random(), rng.random(), rng.random()
        has_gas = gas_draw < (0.85 if kind in ("flexible", "fixed", "tracker") else 0.4)
        has_export = (export_draw < 0.2 or i % 25 == 5) and "outgoing" in self.products
        has_ev = kind == "intelligent" or (kind in ("go", "agile") and ev_draw < 0.4)
        moved = move_draw < 0.08 or i % 25 == 11
        exchanged = exchange_draw < 0.08 or i % 25 == 17
        switched = switch_draw < 0.3 and kind != "flexible"
        move_back = rng.randint(90, min(300, history - 60))
        exchange_back = rng.randint(20, move_back - 10 if moved else min(300, history - 20))
        switch_back = rng.randint(30, move_back - 10 if moved else history - 30)
        solar_back = rng.randint(60, history)
        household = self._household(rng, i, has_export, has_ev, kind)
        properties = []
        homes = [(0, history, move_back), (1, move_back, None)] if moved else [(0, history, None)]
        for p, moved_in_back, moved_out_back in homes:
            current = moved_out_back is None
            elec = [
                self._import_point(
                    i,
                    p,
                    region,
                    kind,
                    moved_in_back,
                    switch_back if switched and current else None,
                    exchange_back if exchanged and current else None,
                    mini_draw < 0.5,
                )
            ]
            if has_export and current:
                elec.append(self._export_point(i, p, region, kind, min(solar_back, moved_in_back)))
            gas = [self._gas_point(i, p, region, kind, moved_in_back, 1 if smets_draw < 0.3 else 2)] if has_gas else []
            properties.append(
                PropertySpec(
                    id=5_000_000_000 + i * 4 + p,
                    moved_in=self._day(moved_in_back),
                    moved_out=self._day(moved_out_back) if moved_out_back is not None else None,
                    address_line_1=f"{1 + (i * 7 + p) % 180} Fleet {'Road' if p else 'Street'}",
                    address_line_2="",
                    address_line_3="",
                    town="SIMTOWN",
                    county="",
                    postcode=f"ZZ{1 + i % 9} {1 + p}ZZ",
                    region=region,
                    electricity=tuple(elec),
                    gas=tuple(gas),
                    # The solar panels and the car belong to the current home
                    household=household if current else _without_extras(household),
                )
            )
        return AccountSpec(
            number=fleet_number(i),
            api_key=fleet_key(self.spec.seed, i),
            user_id=50_000_000 + i,
            email=f"fleet{i}@example.invalid",
            properties=tuple(properties),
        )

    def _household(self, rng: random.Random, i: int, solar: bool, ev: bool, kind: str) -> HouseholdSpec:
        provider, make, model, kw = EV_MODELS[rng.randrange(len(EV_MODELS))]
        ev_spec = EVSpec(
            device_id=f"00000000-0000-4000-8000-f{i:07d}0000",
            provider=provider,
            make=make,
            model=model,
            charger_kw=kw,
            battery_kwh=float(rng.choice((40, 58, 64, 77, 82))),
            plug_in_probability=round(rng.uniform(0.3, 0.6), 2),
            mean_session_kwh=round(rng.uniform(10, 25), 1),
            arrival=rng.choice((17.0, 18.0, 19.5)),
            ready_by=7.0,
            timer=0.5 if kind == "go" else None,
            boost_probability=0.05,
            top_up_probability=0.03,
            onboarded=None,
        )
        return HouseholdSpec(
            baseload_w=round(rng.uniform(120, 300)),
            activity=round(rng.uniform(0.7, 1.4), 2),
            solar_kwp=round(rng.uniform(2.5, 5.0), 1) if solar else 0.0,
            gas_heating_kwh_per_degree=round(rng.uniform(2.5, 4.5), 1),
            gas_hot_water_kwh=round(rng.uniform(4, 8), 1),
            calorific_value=39.5,
            appliances=(
                ApplianceSpec("oven", 2.4, 50, round(rng.uniform(2, 6)), Window(17.0, 19.5)),
                ApplianceSpec("kettle", 2.9, 3, 28, Window(7.0, 22.0)),
            ),
            ev=ev_spec if ev else None,
        )

    def _import_point(
        self,
        i: int,
        p: int,
        region: str,
        kind: str,
        moved_in_back: int,
        switch_back: int | None,
        exchange_back: int | None,
        home_mini: bool,
    ) -> ElectricityPointSpec:
        start = self._day(moved_in_back)
        if switch_back is None:
            agreements: tuple[AgreementSpec, ...] = (
                AgreementSpec(self._tariff(kind, "electricity", region), start, None),
            )
        else:
            at = self._day(switch_back)
            agreements = (
                AgreementSpec(self._tariff("flexible", "electricity", region), start, at),
                AgreementSpec(self._tariff(kind, "electricity", region), at, None),
            )
        standard = (RegisterSpec("1", "STANDARD"),)
        if exchange_back is None:
            meters: tuple[MeterSpec, ...] = (MeterSpec(f"FL{i:07d}{p}A", None, None, standard),)
        else:
            at = self._day(exchange_back)
            meters = (MeterSpec(f"FL{i:07d}{p}A", None, at, standard), MeterSpec(f"FL{i:07d}{p}B", at, None, standard))
        return ElectricityPointSpec(
            mpan=f"17{i:07d}{p}100",
            profile_class=1,
            is_export=False,
            smart=True,
            meter_type="S2AD",
            home_mini=_device(i, p, 1) if home_mini else None,
            consumption_standard=2700,
            meters=meters,
            agreements=agreements,
        )

    def _export_point(self, i: int, p: int, region: str, kind: str, since_back: int) -> ElectricityPointSpec:
        export_kind = "agile_outgoing" if kind == "agile" and "agile_outgoing" in self.products else "outgoing"
        at = self._day(since_back)
        return ElectricityPointSpec(
            mpan=f"17{i:07d}{p}200",
            profile_class=8,
            is_export=True,
            smart=True,
            meter_type="S2AD",
            home_mini=None,
            consumption_standard=0,
            meters=(MeterSpec(f"FL{i:07d}{p}E", at, None, (RegisterSpec("1", "STANDARD"),)),),
            agreements=(AgreementSpec(self._tariff(export_kind, "electricity", region), at, None),),
        )

    def _gas_point(self, i: int, p: int, region: str, kind: str, moved_in_back: int, smets: int) -> GasPointSpec:
        gas_kind = kind if kind in ("fixed", "tracker") and kind in self.products else "flexible"
        return GasPointSpec(
            mprn=f"7{i:07d}{p}",
            smets=smets,
            smart=True,
            device_id=_device(i, p, 2),
            consumption_standard=11500,
            meters=(MeterSpec(f"FG{i:07d}{p}A", None, None, None),),
            agreements=(AgreementSpec(self._tariff(gas_kind, "gas", region), self._day(moved_in_back), None),),
        )


def _device(i: int, p: int, n: int) -> str:
    """An EUI-64 for the smart device ``n`` (1: the electricity meter's Home Mini, 2: the gas meter) of a home."""
    return f"FA-FE-{(i >> 16) & 255:02X}-{(i >> 8) & 255:02X}-{i & 255:02X}-0{p}-00-0{n}"


def _without_extras(household: HouseholdSpec) -> HouseholdSpec:
    """The home moved out of: no panels, no car."""
    return replace(household, solar_kwp=0.0, ev=None)
