"""Payment providers: the port (ports.py) and its adapters (stripe, hmac, fake)."""
