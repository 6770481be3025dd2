"""The data store: validated exports as a hive-partitioned Parquet dataset, and the
DuckDB queries that aggregate it out of core (see ``docs/scale.md``)."""
