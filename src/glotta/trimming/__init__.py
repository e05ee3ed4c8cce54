"""Vocabulary trimming: keep only the tokens a language uses, so a multilingual model shrinks.

multilingual-e5-small spends 96M of its 118M parameters on a 250,002-token embedding matrix;
one language needs a fraction of those rows. E5-NL trimmed to 50,002 Dutch tokens and lost
nothing. The package counts token ids over a target-language corpus (``counting``), chooses
the ids to keep (``selection``), rebuilds the fast tokenizer over them (``tokenizer``), slices
the embedding matrix to match (``model``), measures what the trim costs on the corpus
(``coverage``) and, on request, on benchmarks (``comparison``); ``trim`` runs the whole thing.
"""
