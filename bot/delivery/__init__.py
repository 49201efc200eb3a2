"""Delivery: the inbox (updates in), the outbox and the one rate-limited path out (the sender,
the transport, aiohttp under it), the runner that polls and handles, and the daily digest's
queueing."""
