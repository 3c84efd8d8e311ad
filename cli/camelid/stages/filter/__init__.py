"""`filter`: predicates over plain dicts (checks.py) and the raw-line run that applies them
(run.py)."""

from camelid.stages.filter.checks import TEXT_FIELDS, Drop, Filter, FilterConfig

__all__ = ["TEXT_FIELDS", "Drop", "Filter", "FilterConfig"]
