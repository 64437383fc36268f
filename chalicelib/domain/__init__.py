"""The shop's domain: plain Python, no AWS SDK and no web framework."""
