"""The data store: validated exports as a hive-partitioned Parquet dataset, and the
DuckDB queries that aggregate it out of core (see ``docs/scale.md``)."""

# DuckDB's memory limit unless told otherwise (here, so that a command can name it without
# importing DuckDB).
DEFAULT_MEMORY_LIMIT = "2GB"
