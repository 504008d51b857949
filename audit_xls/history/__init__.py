"""The grading history (store.py and below). Here only what the CLI needs to describe its
--history option, so that importing the CLI does not import the history itself."""

HISTORY_ENV = "AUDIT_XLS_HISTORY"
DEFAULT_HISTORY_NAME = "audit-xls-history.sqlite"
