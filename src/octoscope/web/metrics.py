"""``/metrics`` for Prometheus: live demand, the unit rate now, today's kWh and cost per fuel, the age of
the last sync and the request budget used, read from the store on each scrape (nothing is kept in between).

No secret goes into a metric: no key, no token, not even the key's fingerprint.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

from octoscope import __version__
from octoscope.config import Settings
from octoscope.domain.uktime import HALF_HOUR, from_epoch, local_date
from octoscope.services.costing import CostError, account_costs, cost_point_exc_inc, fuel_of, load_account
from octoscope.services.status import BUDGET_WINDOW, key_id_of
from octoscope.store.ports import StoreProtocol
from octoscope.web.deps import ClockDep, SettingsDep, StoreDep

log = logging.getLogger(__name__)

router = APIRouter(tags=["metrics"])


@dataclass(frozen=True)
class Gauge:
    name: str
    help: str
    labels: tuple[str, ...]
    samples: Sequence[tuple[tuple[str, ...], float]]


def _live(store: StoreProtocol, settings: Settings, now: datetime) -> Iterator[Gauge]:
    latest = store.latest_telemetry()
    demand = [((r.device_id,), r.demand_w) for r in latest if r.demand_w is not None]
    yield Gauge(
        "octoscope_live_demand_watts",
        "Demand in the newest Home Mini reading stored, per device.",
        ("device_id",),
        [(labels, float(value)) for labels, value in demand],
    )
    yield Gauge(
        "octoscope_live_reading_age_seconds",
        "How old the newest Home Mini reading stored is, per device.",
        ("device_id",),
        [((r.device_id,), (now - r.read_at).total_seconds()) for r in latest],
    )


def _money(store: StoreProtocol, settings: Settings, now: datetime) -> Iterator[Gauge]:
    """The unit rate in force now and today's totals, both as the cost engine works them out."""
    try:
        account = load_account(store, settings.require_account())
    except CostError:
        return
    today = local_date(now)
    tomorrow = today + timedelta(days=1)
    slot = from_epoch(now.timestamp() // HALF_HOUR.total_seconds() * HALF_HOUR.total_seconds())
    rates: list[tuple[tuple[str, ...], float]] = []
    home = account.current_property()
    for point in home.meter_points if home else ():
        exc, inc = cost_point_exc_inc(  # one read of the prices, one pass, both VAT treatments
            store,
            point,
            today,
            tomorrow,
            payment_method=settings.payment_method,
            settings=settings.costs,
            half_hours=True,
            readings=[(slot, 0.0)],
        )
        for costed, vat in ((inc, "inc"), (exc, "exc")):
            for h in costed.half_hours:
                if h.rate is not None and h.tariff_code is not None:
                    rates.append(((fuel_of(point), point.identifier, h.tariff_code, vat), h.rate))
    yield Gauge(
        "octoscope_unit_rate_pence_per_kwh",
        "The unit rate in force now (a smart dispatch's off-peak price on Intelligent tariffs); export: what it pays.",
        ("fuel", "meter_point", "tariff_code", "vat"),
        rates,
    )
    report = account_costs(
        store,
        account,
        today,
        tomorrow,
        by="day",
        payment_method=settings.payment_method,
        settings=settings.costs,
        today=today,
    )
    kwh, cost = [], []
    for costs in report.fuels:  # all three: none was left out
        kwh.append(((costs.fuel,), costs.totals.kwh))
        if costs.fuel != "export":
            cost.append(((costs.fuel,), costs.totals.total_pence))
    yield Gauge("octoscope_today_kwh", "kWh stored for today (UK local day), per fuel.", ("fuel",), kwh)
    yield Gauge(
        "octoscope_today_cost_pence",
        "Today's cost so far, inc VAT, with the day's standing charge, per fuel.",
        ("fuel",),
        cost,
    )
    yield Gauge(
        "octoscope_today_export_earnings_pence",
        "What today's export earned so far, inc VAT.",
        (),
        [((), export.totals.earnings_pence if (export := report.fuel("export")) else 0.0)],
    )


def _sync(store: StoreProtocol, settings: Settings, now: datetime) -> Iterator[Gauge]:
    last = store.last_run()
    if last is not None:
        started, finished, outcome = last
        yield Gauge(
            "octoscope_last_sync_age_seconds",
            "Seconds since the last sync finished (or started, while it runs).",
            (),
            [((), (now - (finished or started)).total_seconds())],
        )
        yield Gauge("octoscope_last_sync_ok", "1 if the last sync succeeded.", (), [((), float(outcome == "ok"))])
    if settings.api_key is not None:
        key_id = key_id_of(settings.api_key)
        limits = {"rest": settings.budget.rest_per_hour, "graphql": settings.budget.graphql_per_hour}
        since = now.timestamp() - BUDGET_WINDOW
        used = [((api,), float(len(store.requests_since(key_id, api, since)))) for api in limits]
        yield Gauge("octoscope_api_requests_last_hour", "Octopus API requests in the last hour.", ("api",), used)
        yield Gauge(
            "octoscope_api_requests_limit_per_hour",
            "The request budget per rolling hour.",
            ("api",),
            [((api,), float(limit)) for api, limit in limits.items()],
        )


def gauges(store: StoreProtocol, settings: Settings, now: datetime) -> list[Gauge]:
    out = [Gauge("octoscope_info", "The octoscope serving these metrics.", ("version",), [((__version__,), 1.0)])]
    for part in (_live, _money, _sync):
        try:
            out.extend(part(store, settings, now))
        except (CostError, ValueError) as err:  # one part failing leaves the others
            log.warning("metrics: %s", err)
    return out


class _Snapshot(Collector):
    def __init__(self, found: Iterable[Gauge]) -> None:
        self.found = list(found)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for g in self.found:
            family = GaugeMetricFamily(g.name, g.help, labels=list(g.labels))
            for labels, value in g.samples:
                family.add_metric(list(labels), value)
            yield family


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(store: StoreDep, settings: SettingsDep, clock: ClockDep) -> Response:
    started = clock.monotonic()
    registry = CollectorRegistry(auto_describe=False)
    found = gauges(store, settings, from_epoch(clock()))
    took = clock.monotonic() - started
    found.append(Gauge("octoscope_metrics_seconds", "Time taken to gather these metrics.", (), [((), took)]))
    registry.register(_Snapshot(found))
    # The classic text format, which every Prometheus reads (generate_latest writes it).
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_PLAIN_0_0_4)
