"""The InfluxDB schema the export writes: one place, read by the writer, the tests and the README.

The first four measurements are octograph's (Yanson/octograph ``app/octopus_to_influxdb.py``), with its
field and tag names, so that a Grafana dashboard built on octograph keeps working: ``usage_kwh`` and the
``*_pence`` costs per half-hour, ``*_price`` in p/kWh and p/day, ``tariff_code`` and ``location`` tags.
Numbers are always written as floats, as octograph writes them (a field's type is fixed once written).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Measurement:
    name: str
    time: str  # what a point's time is
    tags: tuple[str, ...]  # besides account_number and the [influx.tags] (location = "Home" by default)
    fields: tuple[str, ...]
    about: str
    octograph: bool = False


CONSUMPTION_FIELDS = (
    "usage_kwh",
    "usage_cost_exc_vat_pence",
    "usage_cost_inc_vat_pence",
    "standing_charge_cost_exc_vat_pence",
    "standing_charge_cost_inc_vat_pence",
    "total_cost_exc_vat_pence",
    "total_cost_inc_vat_pence",
)
PRICING_FIELDS = (
    "unit_price_exc_vat_price",
    "unit_price_inc_vat_price",
    "standing_charge_exc_vat_price",
    "standing_charge_inc_vat_price",
)
COST_FIELDS = (
    "kwh",
    "partial",
    "energy_cost_exc_vat_pence",
    "energy_cost_inc_vat_pence",
    "standing_charge_exc_vat_pence",
    "standing_charge_inc_vat_pence",
    "total_exc_vat_pence",
    "total_inc_vat_pence",
    "earnings_exc_vat_pence",
    "earnings_inc_vat_pence",
)

MEASUREMENTS: dict[str, Measurement] = {
    m.name: m
    for m in (
        Measurement(
            "electricity_consumption",
            "half-hour start",
            ("tariff_code", "electricity_mpan"),
            CONSUMPTION_FIELDS,
            "imported kWh and its cost per half-hour, as `octoscope costs` prices it (on Intelligent tariffs,"
            " smart-dispatched half-hours at the off-peak price); the day's standing charge spread over its"
            " half-hours",
            octograph=True,
        ),
        Measurement(
            "gas_consumption",
            "half-hour start",
            ("tariff_code", "gas_mprn"),
            (*CONSUMPTION_FIELDS, "usage_m3"),
            "gas kWh (m³ converted as bills do; `usage_m3` as read, on a meter that reads m³) and its cost",
            octograph=True,
        ),
        Measurement(
            "electricity_pricing",
            "half-hour start",
            ("tariff_code", "electricity_mpan"),
            PRICING_FIELDS,
            "the import unit rate in force (p/kWh) and the day's standing charge (p/day), through tomorrow",
            octograph=True,
        ),
        Measurement(
            "gas_pricing",
            "half-hour start",
            ("tariff_code", "gas_mprn"),
            PRICING_FIELDS,
            "the gas unit rate in force and the day's standing charge",
            octograph=True,
        ),
        Measurement(
            "electricity_export",
            "half-hour start",
            ("tariff_code", "electricity_mpan"),
            ("usage_kwh", "earnings_exc_vat_pence", "earnings_inc_vat_pence"),
            "exported kWh (positive) and what it earned",
        ),
        Measurement(
            "export_pricing",
            "half-hour start",
            ("tariff_code", "electricity_mpan"),
            ("unit_price_exc_vat_price", "unit_price_inc_vat_price"),
            "the export tariff's rate in force (p/kWh)",
        ),
        Measurement(
            "energy_costs",
            "UK local midnight",
            ("fuel",),
            COST_FIELDS,
            "each local day's totals per fuel (`electricity`, `gas`, `export`), exactly `octoscope costs --by"
            " day`: energy, standing charge and total (earnings for export), `partial` true where a"
            " half-hour, a price or the standing charge is missing",
        ),
        Measurement(
            "intelligent_dispatches",
            "dispatch start",
            ("device_id", "kind", "charge_type"),
            ("duration_minutes", "energy_kwh"),
            "Intelligent Octopus dispatches kept: `kind` planned or completed, `charge_type` SMART, BOOST, TEST"
            " or unknown; energy as a positive kWh where Octopus gives it",
        ),
        Measurement(
            "ev_sessions",
            "half-hour it starts in",
            ("dispatch",),
            ("kwh", "cost_pence", "average_pence_per_kwh", "duration_minutes", "charger_kw"),
            "EV charging sessions found in consumption (`octoscope sessions`); `dispatch` smart, boost or none",
        ),
        Measurement(
            "live_telemetry",
            "reading time",
            ("device_id",),
            ("demand_w", "consumption_wh", "delta_wh", "export_wh"),
            "Home Mini readings kept by the live view",
        ),
    )
}

COMMON_TAGS = ("account_number",)  # on every point, with the [influx.tags]
