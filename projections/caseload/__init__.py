"""The caseload view: referrals and their delivery, Unpaid Work and programme groups.

`handlers` (the view and its event handlers), `models` (the answers), `queries` (their SQL), `report` (the
performance report as CSV). Importers name the module they use; this package exports nothing of its own.
"""
