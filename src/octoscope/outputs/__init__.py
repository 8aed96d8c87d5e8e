"""What leaves the house besides pages, read from the store only (never a request to Octopus): InfluxDB
(``influx`` plans and writes the points, ``influx_writer`` speaks the line protocol, ``schema`` names the
measurements, ``grafana`` ships a dashboard), CSV and Parquet files (``files``, ``rows``), bill
reconciliation points (``bills``), Home Assistant through MQTT (``mqtt``) and notifications through Apprise
(``notify``), the last two from the facts in ``facts``, run beside the scheduler by ``service``."""

from __future__ import annotations

__all__: list[str] = []
