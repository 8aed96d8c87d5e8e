"""Places octoscope writes its data to besides its own database: InfluxDB (``influx``)."""
