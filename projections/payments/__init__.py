"""The payments view: postings, charges, invoices, payments and budget lines; finance's figures and exports.

`handlers` (the view and its event handlers), `models` (the answers and the cut of finance asked about), `queries`
(their SQL), `exports` (the finance tables as CSV). Importers name the module they use; this package exports
nothing of its own.
"""
