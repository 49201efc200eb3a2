"""What patients and clinicians get back from the diary: progress over time, its chart, and
the standard outcome measures."""
