"""The data hub: sources, connectors, runs, freshness, provenance (see capability.py)."""
