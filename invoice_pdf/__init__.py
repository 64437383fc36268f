"""The documents renderer: invoices and credit notes as PDF (docs/invoices.md).

Kept out of the API's Lambda package (it ships in a package of its own, see
invoice_pdf/README.md); the code it renders lives in chalicelib/domain.
"""
