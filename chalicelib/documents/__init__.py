"""Printable documents for the warehouse (packing slips)."""
