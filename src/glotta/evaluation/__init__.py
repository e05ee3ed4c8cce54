"""Scoring encoders on tasks with MTEB v2's protocol, and the MTEB-format results they produce."""
