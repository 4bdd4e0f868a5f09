"""Plain SQL per domain: small dataclasses and async functions taking a connection."""
