"""Finance pages (finance officers and auditors; commissioners for their own): money by any cut, budget lines and
their burn, invoices and their three-way match (and finance's decisions on them), a contract's account, aged payables
and payments compliance. Each page runs the finance operations by name, and every table on them downloads as CSV."""

from __future__ import annotations

from typing import Any

from api.operations import Operations
from api.web.finance import accounts, budgets, invoices, payables, spend


def routes(operations: Operations) -> list[tuple[str, Any]]:
    return [
        ("/app/finance", spend.Spend(operations)),
        ("/app/finance/budgets", budgets.Budgets(operations)),
        ("/app/finance/budgets/{line_id}", budgets.BudgetLine(operations)),
        ("/app/finance/aged-payables", payables.AgedPayables(operations)),
        ("/app/finance/payments-compliance", payables.PaymentsCompliance(operations)),
        ("/app/invoices", invoices.Invoices(operations)),
        ("/app/invoices/{invoice_id}", invoices.Invoice(operations)),
        ("/app/invoices/{invoice_id}/decision", invoices.InvoiceDecision(operations, invoices.DECIDE)),
        ("/app/invoices/{invoice_id}/credit-note", invoices.InvoiceDecision(operations, invoices.CREDIT)),
        ("/app/invoices/{invoice_id}/payment", invoices.InvoiceDecision(operations, invoices.PAY)),
        ("/app/contracts/{contract_id}/account", accounts.ContractAccount(operations)),
    ]
