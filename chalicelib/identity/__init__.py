"""The back office's identity provider: Cognito (docs/back-office.md)."""
