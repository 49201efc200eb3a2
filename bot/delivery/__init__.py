"""Delivery: the inbox (updates in), the outbox and the one rate-limited path out."""
