"""Exports: the store's data, as the cost engine prices it, into InfluxDB (``influx``), CSV and Parquet
(``files``), with a Grafana dashboard (``grafana``). Sits on top, beside ``costing``, the CLI and the web app.
"""
