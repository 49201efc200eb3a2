"""Understanding patients' words: text normalisation, red-flag phrases and triage, the FAQ
matcher, typed times and pauses, places and plain requests."""
