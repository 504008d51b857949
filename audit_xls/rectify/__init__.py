"""The supervision cycle after a score: 整改 (rectification) and 复查 (re-check).

A problem is one 不符合 of one graded workbook, id = workbook id + criterion code. Its life
is a sequence of events in the history (found, notified, replied, re-checked), never an edit
in place: `ledger` records and replays them, `policy` says how long a site has to fix a
problem, `notices` writes the 整改通知单 workbooks and `collect` reads the replies.
"""
