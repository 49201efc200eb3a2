"""The process's plumbing: reaching the database and Telegram at start, logging, the clock and
the terminal demo."""
