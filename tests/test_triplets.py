"""Pairs without leakage, resumable sharded builds, statistics, and bad corpus input."""

from __future__ import annotations

import json
import re

import pytest

from conftest import run_cli, write_jsonl
from glotta.data.corpus import CorpusDocument, CorpusReader
from glotta.data.pairs import PairBuilder, PairSettings, leaks, normalise
from glotta.errors import GlottaError


def test_leakage_is_judged_on_normalised_text():
    assert normalise("  Perché, Mario?!  ") == "perche mario"
    assert leaks("Perché Mario?", "Disse: «perché, mario» e rise.")
    assert not leaks("Perché Mario?", "Disse perché Maria rise.")


def test_sentence_pairs_remove_the_query_and_drop_leaking_ones():
    repeated = "Il treno partì alle sei del mattino da Milano."
    paragraph = (f"{repeated} Era una giornata fredda e grigia di novembre. La stazione era quasi vuota "
                 f"e silenziosa. {repeated} Nessuno aspettava sul binario accanto al nostro vagone.")
    builder = PairBuilder(PairSettings(min_positive_words=5, pairs_per_document=1), seed=0, language="ita")
    documents = [CorpusDocument(str(i), "", paragraph, "test") for i in range(20)]
    pairs = list(builder.pairs(documents))
    assert all(pair.query not in pair.positive for pair in pairs)
    # picking the repeated sentence leaves its twin in the positive: that pair is dropped and counted
    assert builder.dropped["leakage (query inside positive)"] == 20 - len(pairs) > 0


def test_title_pairs_skip_a_chapter_s_short_opening_line(data_root):
    """Gutenberg chapters may open with a heading line or a date: the positive is the first paragraph
    long enough to be one, not no pair at all."""
    lines = (data_root / "corpora/it/gutenberg_it/docs.jsonl").read_text(encoding="utf-8").splitlines()[:300]
    documents = [CorpusDocument(d["id"], d["title"], d["text"], "gutenberg") for d in map(json.loads, lines)]
    settings = PairSettings("title")
    pairs = list(PairBuilder(settings, seed=0, language="ita").pairs(documents))
    short_openings = [d for d in documents if len(d.text.split("\n\n")[0].split()) < settings.min_positive_words]
    assert len(short_openings) >= 10
    by_id = {pair.doc_id: pair for pair in pairs}
    assert len(by_id) >= 298  # one pair a chapter: short openings included
    for document in short_openings:
        assert by_id[document.id].query == document.title.strip()
        assert len(by_id[document.id].positive.split()) >= settings.min_positive_words
        assert by_id[document.id].positive in " ".join(document.text.split())


def test_dutch_sentence_pairs_do_not_end_a_query_at_an_abbreviation(data_root):
    """The statutes cite "Verordening (EG) nr. 216/2008" and "art. 5": a period there ends no sentence
    (a period-plus-capital-or-digit rule ended 99 sentences of these 200 statutes at one)."""
    lines = (data_root / "corpora/nl/wetten_laws_markdown/docs.jsonl").read_text(encoding="utf-8").splitlines()[:200]
    documents = [CorpusDocument(d["id"], d["title"], d["text"], "wetten") for d in map(json.loads, lines)]
    pairs = list(PairBuilder(PairSettings(pairs_per_document=50), seed=0, language="nld").pairs(documents))
    abbreviation_end = re.compile(r"\b(nr|art|jo|Stb|blz)\.$")
    assert len(pairs) > 100
    assert any(re.search(r"\b(nr|art)\. \d", pair.query) for pair in pairs)  # cited, and kept whole
    assert not [pair.query for pair in pairs if abbreviation_end.search(pair.query)]


def test_unreadable_documents_are_skipped_and_counted(tmp_path):
    corpus = tmp_path / "docs.jsonl"
    good = json.dumps({"id": "a", "title": "", "text": "Testo valido."}) + "\n"
    corpus.write_bytes(good.encode() + b'{"id": "b", "text": "caf\xe9"}\n' + b"{broken\n"
                       + b'{"id": "c", "text": "   "}\n' + b'{"id": "d"}\n')
    reader = CorpusReader([corpus])
    assert [d.id for d in reader] == ["a"]
    assert reader.skipped == {"not UTF-8": 1, "malformed JSON": 1, "empty text": 1, "no 'text' field": 1}
    with pytest.raises(GlottaError, match=r"unsupported corpus format '\.csv'"):
        (tmp_path / "x.csv").write_text("a")
        CorpusReader([tmp_path / "x.csv"])


def _build(out, corpus, *extra):
    return run_cli("triplets", "build", "--corpus", str(corpus), "--lang", "nld", "--miner", "bm25",
                   "--strategy", "topk", "--num-negatives", "2", "--random-negatives", "1",
                   "--shard-size", "30", "--out", str(out), *extra)


def test_build_resumes_from_kept_shards_and_stats_are_clean(tmp_path, data_root):
    corpus = data_root / "corpora/nl/ud_alpino/docs.jsonl"
    out = tmp_path / "triplets"
    first = _build(out, corpus)
    assert first.returncode == 0, first.stderr
    complete = (out / "triplets.jsonl").read_text()
    shards = sorted((out / "shards").iterdir())
    assert len(shards) == 3  # 79 documents in shards of 30
    shards[1].unlink()  # as if interrupted while building the second shard
    (out / "triplets.jsonl").unlink()
    again = _build(out, corpus)
    assert again.returncode == 0 and "shards reused: 2" in again.stdout
    assert (out / "triplets.jsonl").read_text() == complete  # per-shard seeds: same result

    changed = _build(out, corpus, "--seed", "7")
    assert changed.returncode == 2 and "built with other settings" in changed.stderr

    from datasets import load_dataset

    rows = load_dataset("parquet", data_files=str(out / "triplets.parquet"), split="train")
    assert len(rows) == complete.count("\n") and set(rows[0]["negative_kinds"]) == {"hard", "random"}
    assert {"source", "miner", "negative_scores", "positive_score"} <= set(rows.column_names)
    assert set(rows["corpus"]) == {corpus.parent.name}  # the unit of source-homogeneous batches

    stats = tmp_path / "stats.json"
    shown = run_cli("triplets", "stats", str(out), "--json", str(stats))
    assert shown.returncode == 0, shown.stderr
    numbers = json.loads(stats.read_text())
    assert numbers["exact duplicate triplets"] == 0 and numbers["leakage (query inside positive)"] == 0
    assert numbers["hard negatives"] == 2 * numbers["random negatives"] > 0
    assert numbers["whitespace tokens"]["query"]["mean"] > 5


def test_mining_with_the_target_model_is_refused_unless_insisted(tmp_path, data_root):
    done = run_cli("triplets", "build", "--corpus", str(data_root / "corpora/nl/ud_alpino/docs.jsonl"),
                   "--lang", "nld", "--miner", "bm25", "--target", "bm25", "--out", str(tmp_path / "t"))
    assert done.returncode == 2 and "the miner is the model to be trained" in done.stderr
    assert not (tmp_path / "t").exists()


def test_stats_on_a_malformed_file_names_the_line(tmp_path):
    path = tmp_path / "triplets.jsonl"
    write_jsonl(path, [{"query": "q", "positive": "p", "negatives": ["n"]}])
    with path.open("a") as stream:
        stream.write('{"query": "q"}\n')
    done = run_cli("triplets", "stats", str(path))
    assert done.returncode == 2 and "triplets.jsonl:2: not a triplet row" in done.stderr


def test_plain_text_and_parquet_corpora_stream_like_jsonl(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    text = tmp_path / "libro.txt"
    text.write_text("Primo documento.\n\nSecondo paragrafo.\n\n\nAltro documento.", encoding="utf-8")
    assert [d.text for d in CorpusReader([text])] == ["Primo documento.\n\nSecondo paragrafo.", "Altro documento."]
    table = tmp_path / "docs.parquet"
    pq.write_table(pa.table({"id": ["a", "b"], "title": ["T", ""], "text": ["Uno.", None]}), table)
    reader = CorpusReader([table])
    assert [(d.id, d.title, d.text) for d in reader] == [("a", "T", "Uno.")]
    assert reader.skipped == {"no 'text' field": 1}


def test_bm25_miner_survives_a_query_made_of_stopwords():
    from glotta.encoders.bm25 import BM25Retriever

    index = BM25Retriever().index(["il gatto dorme sul divano", "la casa è grande"], "ita")
    assert index.pair_scores(["e il", "gatto"], [[0], [0, 1]])[0] == [0.0]


def test_given_pairs_are_mined_and_leaking_ones_dropped(tmp_path, data_root):
    import itertools

    documents = itertools.islice(CorpusReader([data_root / "corpora/it/gutenberg_it/docs.jsonl"]), 30)
    rows = [{"query": d.title or d.text.split(".")[0], "positive": d.text[:600]} for d in documents]
    rows.append({"query": "Il treno partì", "positive": "Il treno partì alle sei."})  # leaks
    rows.append(dict(rows[0]))  # the same pair twice: kept once
    given = tmp_path / "pairs.jsonl"
    write_jsonl(given, rows)
    with given.open("a") as stream:
        stream.write('{"query": "senza positivo"}\n')
    out = tmp_path / "given"
    done = run_cli("triplets", "build", "--corpus", str(given), "--pairs", "given", "--lang", "ita",
                   "--miner", "bm25", "--strategy", "topk", "--num-negatives", "2", "--out", str(out))
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["leakage (query inside positive)"] == 1
    assert summary["documents skipped: no 'positive' field"] == 1
    assert summary["duplicate pairs (same query and positive)"] == 1
    assert 0 < summary["rows"] <= 30


def test_a_missing_corpus_file_writes_nothing(tmp_path):
    out = tmp_path / "t"
    done = run_cli("triplets", "build", "--corpus", str(tmp_path / "nope.jsonl"), "--lang", "ita",
                   "--miner", "bm25", "--strategy", "topk", "--out", str(out))
    assert done.returncode == 2 and "corpus file not found" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()
