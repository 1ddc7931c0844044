"""``ecom load``: the landing zone into ``raw.events``, idempotent and audited (DuckDB or Redshift)."""
