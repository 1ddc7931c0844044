"""PostgreSQL as a warehouse: a throwaway server for tests and development, and the loader."""
