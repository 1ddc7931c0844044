"""Presenting the marts: the dbt docs site, a static dashboard, Parquet exports for PowerBI."""
