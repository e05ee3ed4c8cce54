"""Build a retrieval benchmark from a user's own documents: ingest, normalise, chunk."""
