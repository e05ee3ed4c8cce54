"""Reading tasks, benchmarks and corpora into typed, validated objects."""
