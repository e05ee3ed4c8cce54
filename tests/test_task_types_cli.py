"""Every task type through the real CLI: scores on disk, BM25 'not applicable', language-pure summary."""

from __future__ import annotations

import json

from conftest import cut_jsonl_task, run_cli

MINILM = "sentence-transformers/all-MiniLM-L6-v2"


def test_bm25_is_not_applicable_to_embedding_tasks_and_summary_is_language_pure(tmp_path, data_root):
    it = tmp_path / "it"
    sts = cut_jsonl_task(data_root / "tasks/it/sts_stsb_it", it / "sts_small_it", 120)
    classes = cut_jsonl_task(data_root / "tasks/it/classification_mhc_it", it / "mhc_small_it", 150,
                             files=("train.jsonl", "test.jsonl"))
    bitext = cut_jsonl_task(data_root / "tasks/it/bitext_tatoeba_en_it", it / "tatoeba_small_en_it", 100)
    out = tmp_path / "results"
    done = run_cli("eval", "-t", str(sts), "-t", str(classes), "-t", str(bitext),
                   "-m", "bm25", "-m", MINILM, "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "n/a: bm25s ranks documents but has no embeddings for sts tasks" in done.stdout
    assert "Italian (ita)" in done.stdout and "cross-lingual eng-ita" in done.stdout
    files = sorted(p.name for p in out.rglob("*.json") if p.name != "model_meta.json")
    assert files == ["mhc_small_it.json", "sts_small_it.json", "tatoeba_small_en_it.json"]  # none for BM25
    sts_result = json.loads(next(out.rglob("sts_small_it.json")).read_text())
    entry = sts_result["scores"]["test"][0]
    assert sts_result["task_type"] == "sts" and entry["main_score"] == entry["cosine_spearman"]
    assert 0.3 < entry["main_score"] < 0.9

    shown = run_cli("results", "show", str(out))
    assert shown.returncode == 0, shown.stderr
    italian = shown.stdout[shown.stdout.index("Italian (ita)"):shown.stdout.index("cross-lingual")]
    # the Italian mean is over the two Italian tasks only: the bitext score is not in it
    minilm_row = next(line for line in italian.splitlines() if "all-MiniLM" in line)
    classification = json.loads(next(out.rglob("mhc_small_it.json")).read_text())["scores"]["test"][0]
    expected = (entry["main_score"] + classification["main_score"]) / 2
    assert f"{expected:.4f}" in minilm_row and "2/2" in minilm_row


def test_results_show_on_a_missing_folder_fails_cleanly(tmp_path):
    done = run_cli("results", "show", str(tmp_path / "nothing"))
    assert done.returncode == 2 and "results folder not found" in done.stderr and "Traceback" not in done.stderr



def test_a_text_shared_by_two_tasks_is_encoded_once(tmp_path, data_root):
    """SICK-NL's STS and NLI tasks hold the same sentence pairs: the second task encodes nothing."""
    from glotta.data.local_tasks import load_task_folder
    from glotta.data.task_spec import TaskSpec
    from glotta.encoders.cache import EmbeddingCache
    from glotta.encoders.registry import EncoderOptions, resolve_model
    from glotta.evaluation.pair_classification import evaluate_pair_classification
    from glotta.evaluation.sts import evaluate_sts
    from glotta.progress import SilentProgress

    sts_folder = cut_jsonl_task(data_root / "tasks/nl/sts_sick_nl", tmp_path / "nl" / "sick_sts", 80)
    nli_folder = cut_jsonl_task(data_root / "tasks/nl/pairs_sick_nl_nli", tmp_path / "nl" / "sick_nli", 80)
    sts = load_task_folder(TaskSpec(path=sts_folder))
    pairs = load_task_folder(TaskSpec(path=nli_folder, evaluator={"positive": "entailment"}))
    encoder = resolve_model(MINILM, EncoderOptions(cache=EmbeddingCache(tmp_path / "cache"))).encoder
    evaluate_sts(sts, encoder, SilentProgress())
    assert encoder.encoded == len(set(sts.sentence1) | set(sts.sentence2)) > 50
    before = encoder.encoded
    evaluate_pair_classification(pairs, encoder, SilentProgress())
    assert encoder.encoded == before
