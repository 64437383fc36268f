"""Carriers: tracking links per carrier and the signed tracking-event format."""
