"""Text encoders behind one interface, the embedding cache, and the BM25 baseline."""
