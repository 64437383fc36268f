"""HTTP: Chalice blueprints, request/response schemas, errors and auth."""
