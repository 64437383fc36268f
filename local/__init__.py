"""The local stack for `make run` and the tests. Never shipped to Lambda."""
