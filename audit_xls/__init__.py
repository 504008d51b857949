"""audit-xls: run inspection standards through Excel."""

__version__ = "0.1.0"
