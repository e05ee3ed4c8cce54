"""Fine-tuning mechanics on a tiny model the tests build (real tokenizer, random 2-layer BERT):
training data checks, source-homogeneous batches, exact resume, GradCache, DDP over gloo,
the CLI's saved model, saturation advice, the forgetting comparison and weight merging."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from conftest import DATA, ROOT, build_tiny_model, cut_retrieval_task, run_cli, write_jsonl
from glotta.errors import GlottaError
from glotta.training.fine_tune import TrainSettings, build_trainer, checkpoint_folder, load_model, train
from glotta.training.train_data import load_training_data

CORPORA = DATA / "corpora" / "it"


def _paragraphs(source: str, count: int) -> list[str]:
    texts = []
    with (CORPORA / source / "docs.jsonl").open(encoding="utf-8") as stream:
        for line in stream:
            texts += [p for p in json.loads(line)["text"].split("\n\n") if len(p.split()) > 12]
            if len(texts) >= 3 * count:
                break
    return texts[: 3 * count]


@pytest.fixture(scope="module")
def triplets(tmp_path_factory) -> Path:
    """120 rows from two real Italian corpora: query = first sentence-ish, positive = the rest."""
    rows = []
    for source in ("eltec_ita", "gutenberg_it"):
        texts = _paragraphs(source, 60)
        for i in range(60):
            words = texts[i].split()
            rows.append({"query": " ".join(words[:8]), "positive": " ".join(words[8:]),
                         "negatives": [texts[60 + i], texts[120 + i]], "corpus": source})
    random.Random(0).shuffle(rows)
    path = tmp_path_factory.mktemp("train") / "triplets.jsonl"
    write_jsonl(path, rows)
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny")


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(folder / "model.safetensors")


def test_training_rows_are_checked(tmp_path, triplets):
    data = load_training_data([triplets], negatives=2)
    assert data.counts() == {"eltec_ita": 60, "gutenberg_it": 60}
    assert data.columns == ["query", "positive", "negative_1", "negative_2"]
    with pytest.raises(GlottaError, match="no usable training rows") as error:
        load_training_data([triplets], negatives=3)
    assert "--negatives" in error.value.message
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "a", "positive": "b"}\n{"query": "a", "positive": \n', encoding="utf-8")
    with pytest.raises(GlottaError, match="not a JSON object") as error:
        load_training_data([bad], negatives=0)
    assert error.value.location == f"{bad}:2"
    missing = tmp_path / "missing.jsonl"
    write_jsonl(missing, [{"query": "a", "positive": "b"}, {"query": "a", "text": "b"}])
    with pytest.raises(GlottaError, match="'positive'") as error:
        load_training_data([missing], negatives=0)
    assert error.value.line == 2
    assert load_training_data([triplets], negatives=0, max_rows=10).rows == 10


def test_general_pairs_form_their_own_source(tmp_path, triplets):
    pairs = tmp_path / "english.jsonl"
    write_jsonl(pairs, [{"query": f"question {i}", "positive": f"answer number {i}"} for i in range(20)])
    data = load_training_data([triplets], negatives=0, general=[pairs])
    assert data.counts()["general:english"] == 20
    # glotta tune's general_share: the general rows cut (seeded) to that share of all rows
    quarter = data.with_general_share(0.1, seed=3)
    assert quarter.counts() == {**{k: v for k, v in data.counts().items() if k != "general:english"},
                                "general:english": round(0.1 / 0.9 * 120)}
    assert quarter.sources["general:english"]["query"] == data.with_general_share(0.1, seed=3).sources[
        "general:english"]["query"]
    assert "general:english" not in data.with_general_share(0.0, seed=3).counts()
    assert data.with_general_share(0.9, seed=3).counts()["general:english"] == 20  # all there is


def _batches(model_dir: Path, data, batching: str, tmp_path: Path):
    tiny, prompts = load_model(str(model_dir))
    trainer = build_trainer(tiny, prompts, data, TrainSettings(batch_size=8, batching=batching, max_steps=5),
                            tmp_path / batching)
    loader = trainer.get_train_dataloader()
    sizes = [len(d) for d in loader.dataset.datasets] if hasattr(loader.dataset, "datasets") else [len(loader.dataset)]
    return list(loader.batch_sampler), sizes


def test_every_batch_comes_from_one_source_without_duplicate_texts(tmp_path, model, triplets):
    data = load_training_data([triplets], negatives=1)
    batches, sizes = _batches(model, data, "auto", tmp_path)
    assert len(sizes) == 2 and len(batches) == 14  # 60 rows per source, batches of 8, last dropped
    bounds = [0, sizes[0], sizes[0] + sizes[1]]
    for batch in batches:
        assert len(batch) == 8
        sources = {0 if index < bounds[1] else 1 for index in batch}
        assert len(sources) == 1, batch
    names = list(data.sources)
    for batch in batches:
        texts = []
        for index in batch:
            source = 0 if index < bounds[1] else 1
            row = index - bounds[source]
            texts += [data.sources[names[source]][c][row] for c in data.columns]
        assert len(texts) == len(set(texts))
    # the same rows in mixed batches do mix sources: the check above can fail
    mixed, _ = _batches(model, data, "mixed", tmp_path)
    origin = {}
    for name in names:
        for text in data.sources[name]["query"]:
            origin[text] = name
    merged = [text for name in names for text in data.sources[name]["query"]]
    assert any(len({origin[merged[i]] for i in batch}) == 2 for batch in mixed)


class _Crash(Exception):
    pass


def test_resume_after_a_crash_reaches_the_same_weights(tmp_path, model, triplets):
    from transformers import TrainerCallback

    class CrashAtStep(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 7:
                raise _Crash

    data = load_training_data([triplets], negatives=1)
    settings = TrainSettings(batch_size=8, max_steps=10, save_steps=4, logging_steps=5, learning_rate=1e-3)
    straight = train(str(model), data, tmp_path / "straight", settings)
    assert straight.resumed_from is None
    with pytest.raises(_Crash):
        train(str(model), data, tmp_path / "resumed", settings, callbacks=[CrashAtStep()])
    assert not (tmp_path / "resumed").exists()  # no half-written model
    assert (checkpoint_folder(tmp_path / "resumed") / "checkpoint-4").is_dir()
    resumed = train(str(model), data, tmp_path / "resumed", settings)
    assert resumed.resumed_from.endswith("checkpoint-4")
    a, b, base = _weights(tmp_path / "straight"), _weights(tmp_path / "resumed"), _weights(model)
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6)
    assert any(not torch.equal(a[k], base[k]) for k in a)  # training did move the weights
    assert not checkpoint_folder(tmp_path / "resumed").exists()
    # a run with other settings is not silently resumed
    with pytest.raises(_Crash):
        train(str(model), data, tmp_path / "other", settings, callbacks=[CrashAtStep()])
    with pytest.raises(GlottaError, match="differs in: settings"):
        train(str(model), data, tmp_path / "other", TrainSettings(batch_size=8, max_steps=12, save_steps=4))


def test_gradcache_gives_the_same_update_as_plain_infonce(tmp_path, triplets):
    """CachedMultipleNegativesRankingLoss is exact: same step as the plain loss (no dropout)."""
    from transformers import BertConfig

    base = build_tiny_model(tmp_path / "nodrop")
    config = BertConfig.from_pretrained(base)
    config.hidden_dropout_prob = config.attention_probs_dropout_prob = 0.0
    config.save_pretrained(base)
    data = load_training_data([triplets], negatives=1)
    common = dict(batch_size=16, max_steps=2, save_steps=100, learning_rate=1e-3, warmup_ratio=0.0)
    train(str(base), data, tmp_path / "plain", TrainSettings(loss="infonce", **common))
    train(str(base), data, tmp_path / "cached", TrainSettings(loss="cached-infonce", mini_batch_size=4, **common))
    plain, cached, start = _weights(tmp_path / "plain"), _weights(tmp_path / "cached"), _weights(base)
    # Adam moves each weight by about lr (1e-3) per step whatever the gradient's size, so
    # float noise in near-zero gradients can show up as a fraction of one step.
    assert max((plain[k] - start[k]).abs().max().item() for k in plain) > 1e-3
    for key in plain:
        torch.testing.assert_close(plain[key], cached[key], rtol=0, atol=2e-4)


def test_train_cli_keeps_prompts_logs_dev_scores_and_saves_a_loadable_model(tmp_path, triplets):
    from sentence_transformers import SentenceTransformer

    base = build_tiny_model(tmp_path / "e5-like", prompts={"query": "query: ", "passage": "passage: "})
    dev = cut_retrieval_task(DATA / "tasks/it/retrieval_xquad_it", tmp_path / "dev_it", 20, 20)
    general = cut_retrieval_task(DATA / "tasks/en/retrieval_xquad_en", tmp_path / "dev_en", 20, 20)
    out = tmp_path / "tuned"
    result = run_cli("train", str(base), "--data", str(triplets), "--out", str(out), "--max-steps", "4",
                     "--batch-size", "8", "--save-steps", "2", "--dev-task", str(dev), "--general-task", str(general),
                     "--eval-queries", "10")
    assert result.returncode == 0, result.stderr
    assert "batches: one source each" in result.stdout
    assert "prompts: query 'query: ', document 'passage: '" in result.stdout
    assert "room to improve" in result.stdout  # the saturation check ran on the dev task
    report = json.loads((out / "glotta_training.json").read_text())
    evals = [entry for entry in report["log_history"] if "eval_target_cosine_ndcg@10" in entry]
    assert [e["step"] for e in evals] == [0, 2, 4] and all("eval_general_cosine_ndcg@10" in e for e in evals)
    assert report["advice"]["task"] == "dev_it" and report["advice"]["saturated"] is False
    loaded = SentenceTransformer(str(out))
    assert loaded.prompts["query"] == "query: " and loaded.prompts["passage"] == "passage: "
    again = run_cli("train", str(base), "--data", str(triplets), "--out", str(out), "--max-steps", "4")
    assert again.returncode == 2 and "output folder exists" in again.stderr
    evaluated = run_cli("eval", "--model", str(out), "--task", str(dev), "--output", str(tmp_path / "res"))
    assert evaluated.returncode == 0, evaluated.stderr


def test_dev_checks_score_at_the_models_own_length_not_the_training_cut(tmp_path, model):
    from sentence_transformers import SentenceTransformer

    from glotta.training.dev_evaluation import FullLengthEvaluator, load_retrieval_task, retrieval_evaluator

    task = load_retrieval_task(cut_retrieval_task(DATA / "tasks/it/retrieval_xquad_it", tmp_path / "dev", 20, 20))
    check = retrieval_evaluator(task, ("", ""), None, 0, 16, "target")
    encoder = SentenceTransformer(str(model), device="cpu")
    full = check(encoder)["target_cosine_ndcg@10"]
    encoder.max_seq_length = 8  # what --max-seq-length 8 sets during training
    cut = check(encoder)["target_cosine_ndcg@10"]
    lifted = FullLengthEvaluator([check], 64)(encoder)["target_cosine_ndcg@10"]
    assert lifted == pytest.approx(full) and cut != pytest.approx(full)
    assert encoder.max_seq_length == 8  # training goes on with its cut


@pytest.mark.parametrize("args, message", [
    (["--loss", "triplet"], "unknown loss"),
    (["--batching", "by-topic"], "unknown batching"),
    (["--negatives", "5"], "no usable training rows"),
])
def test_train_cli_rejects_bad_options(tmp_path, model, triplets, args, message):
    result = run_cli("train", str(model), "--data", str(triplets), "--out", str(tmp_path / "o"), *args)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()


def test_two_process_ddp_over_gloo(tmp_path, model, triplets):
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         "-m", "glotta.cli", "train", str(model), "--data", str(triplets), "--out", str(out),
         "--max-steps", "3", "--batch-size", "4", "--save-steps", "2", "--no-advise"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((out / "glotta_training.json").read_text())
    assert report["world_size"] == 2
    assert report["metrics"]["train_samples_per_second"] > 0
    assert any(not torch.equal(v, _weights(model)[k]) for k, v in _weights(out).items())


def test_advise_warns_when_the_base_is_saturated(tmp_path, model):
    dev = cut_retrieval_task(DATA / "tasks/it/retrieval_xquad_it", tmp_path / "dev_it", 20, 20)
    calm = run_cli("advise", str(model), "--dev-task", str(dev), "-o", str(tmp_path / "r"))
    assert calm.returncode == 0 and "room to improve" in calm.stdout
    warned = run_cli("advise", str(model), "--dev-task", str(dev), "-o", str(tmp_path / "r"),
                     "--saturation-threshold", "0.01")
    assert warned.returncode == 0 and "already near the ceiling" in warned.stdout
    assert "glotta merge" in warned.stdout and "--general" in warned.stdout
    sts = run_cli("advise", str(model), "--dev-task", str(DATA / "tasks/it/sts_stsb_it"))
    assert sts.returncode == 2 and "cannot be a dev task" in sts.stderr


@pytest.fixture(scope="module")
def tuned(tmp_path_factory, model, triplets) -> Path:
    data = load_training_data([triplets], negatives=1)
    out = tmp_path_factory.mktemp("tuned") / "tuned"
    train(str(model), data, out, TrainSettings(batch_size=8, max_steps=6, save_steps=100, learning_rate=2e-3))
    return out


def test_compare_reports_changes_that_match_the_evaluations(tmp_path, model, tuned):
    dev = cut_retrieval_task(DATA / "tasks/it/retrieval_xquad_it", tmp_path / "it" / "xquad_it_small", 20, 20)
    sts = tmp_path / "en" / "sts_en_small"
    shutil.copytree(DATA / "tasks/en/sts_stsb_en", sts)
    lines = (sts / "test.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)[:200]
    (sts / "test.jsonl").write_text("".join(lines), encoding="utf-8")
    out = tmp_path / "cmp"
    result = run_cli("compare", str(model), str(tuned), "--task", str(dev), "--task", str(sts), "-o", str(out),
                     "--drop-points", "0")
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "compare.json").read_text())
    by_task = {t["task"]: t for t in report["tasks"]}
    assert set(by_task) == {"xquad_it_small", "sts_en_small"}
    for name, entry in by_task.items():
        scores = {}
        for path in (out / "results").rglob(f"{name}.json"):
            model_name = path.parts[-3]
            scores[model_name] = json.loads(path.read_text())["scores"]
        assert len(scores) == 2
        assert entry["change_points"] == pytest.approx(100 * (entry["tuned"] - entry["base"]))
    bench = report["benchmarks"][0]
    assert bench["base"] == pytest.approx(sum(t["base"] for t in report["tasks"]) / 2)
    assert bench["tasks_dropped"] == sum(t["change_points"] <= 0 for t in report["tasks"])
    assert (out / "forgetting.png").stat().st_size > 0 and (out / "report.html").exists()
    same = run_cli("compare", str(model), str(model), "--task", str(dev), "-o", str(tmp_path / "same"))
    assert same.returncode == 2 and "same model" in same.stderr


def test_merge_interpolates_weights_and_checks_architecture(tmp_path, model, tuned):
    out = tmp_path / "merged"
    result = run_cli("merge", str(model), str(tuned), "--alpha", "0.25", "--out", str(out))
    assert result.returncode == 0, result.stderr
    base, fine, merged = _weights(model), _weights(tuned), _weights(out)
    for key in base:
        torch.testing.assert_close(merged[key], 0.75 * base[key] + 0.25 * fine[key], rtol=0, atol=1e-6)
    bad_alpha = run_cli("merge", str(model), str(tuned), "--alpha", "1.5", "--out", str(tmp_path / "x"))
    assert bad_alpha.returncode == 2 and "outside [0, 1]" in bad_alpha.stderr
    other = build_tiny_model(tmp_path / "other")
    from transformers import BertConfig, BertModel

    config = BertConfig.from_pretrained(other)
    config.num_hidden_layers = 1
    BertModel(config).save_pretrained(other)
    mismatch = run_cli("merge", str(model), str(other), "--out", str(tmp_path / "y"))
    assert mismatch.returncode == 2 and "cannot be merged" in mismatch.stderr
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_merge_sweep_scores_base_merges_and_tuned(tmp_path, model, tuned):
    dev = cut_retrieval_task(DATA / "tasks/it/retrieval_xquad_it", tmp_path / "it" / "xquad_it_small", 20, 20)
    general = cut_retrieval_task(DATA / "tasks/en/retrieval_xquad_en", tmp_path / "en" / "xquad_en_small", 20, 20)
    out = tmp_path / "sweep"
    result = run_cli("merge", str(model), str(tuned), "--out", str(out), "--sweep", "0.5",
                     "--target-task", str(dev), "--general-task", str(general))
    assert result.returncode == 0, result.stderr
    rows = json.loads((out / "merge_sweep.json").read_text())["rows"]
    assert [r["alpha"] for r in rows] == [0.0, 0.5, 1.0]
    compare = run_cli("compare", str(model), str(tuned), "--task", str(dev), "-o", str(tmp_path / "c"))
    assert compare.returncode == 0
    direct = json.loads((tmp_path / "c" / "compare.json").read_text())["tasks"][0]
    assert rows[0]["target"] == pytest.approx(direct["base"]) and rows[2]["target"] == pytest.approx(direct["tuned"])
    assert (out / "alpha-0.5" / "model.safetensors").exists() and (out / "merge_sweep.png").exists()
    bad = run_cli("merge", str(model), str(tuned), "--out", str(out), "--sweep", "0.5,x", "--target-task", str(dev),
                  "--general-task", str(general))
    assert bad.returncode == 2 and "not a list of numbers" in bad.stderr
    twice = run_cli("merge", str(model), str(tuned), "--out", str(out), "--sweep", "0.5", "--target-task", str(dev),
                    "--general-task", str(dev))
    assert twice.returncode == 2 and "both target and general" in twice.stderr
