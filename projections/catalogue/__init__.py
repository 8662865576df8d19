"""The catalogue view: who can deliver what, where, under which contract.

`handlers` (the view and its event handlers), `models` (the answers), `queries` (their SQL). Importers name the
module they use; this package exports nothing of its own.
"""
