"""Encoding backends (OpenVINO, ONNX Runtime) against PyTorch on a real model, the embedding
cache's identity per runtime, warm runs that never load the model, and resumable encodes."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from glotta.encoders import cache as cache_module
from glotta.encoders.backends import Runtime
from glotta.encoders.base import Role
from glotta.encoders.cache import CachedEncoder, EmbeddingCache
from glotta.encoders.registry import EncoderOptions, resolve_encoder
from glotta.errors import GlottaError

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
TEXTS = ["Dove si trova il Colosseo?", "Il Colosseo si trova a Roma, vicino al Foro.", "Amsterdam is de hoofdstad.",
         "Een langere zin over de Nederlandse wetgeving, met een bijzin die de tokens laat groeien.", ""]


@pytest.fixture(scope="module")
def reference():
    return resolve_encoder(MINILM).encode_documents(TEXTS)


@pytest.mark.parametrize("backend", ["openvino", "onnx"])
def test_fp32_on_each_backend_equals_pytorch_fp32(backend, reference, tmp_path):
    options = EncoderOptions(runtime=Runtime(backend, "fp32"), conversions=tmp_path)
    vectors = resolve_encoder(MINILM, options).encode_documents(TEXTS)
    np.testing.assert_allclose(vectors, reference, atol=1e-5)
    converted = [p for p in tmp_path.iterdir() if (p / "done").is_file()]
    assert len(converted) == 1
    stamp = converted[0].stat().st_mtime_ns
    again = resolve_encoder(MINILM, options).encode_documents(TEXTS)  # the conversion is reused, not redone
    np.testing.assert_array_equal(again, vectors)
    assert [p.stat().st_mtime_ns for p in tmp_path.iterdir() if (p / "done").is_file()] == [stamp]


def test_main_scores_on_real_tasks_match_pytorch_within_1e4(small_task, data_root, tmp_path):
    from conftest import cut_jsonl_task
    from glotta.api import evaluate

    sts = cut_jsonl_task(data_root / "tasks/it/sts_stsb_it", tmp_path / "it" / "sts_small", 120)
    scores = {}
    for backend in ("torch", "openvino", "onnx"):
        results = evaluate(MINILM, [str(small_task), str(sts)], backend=backend, cache=False)
        scores[backend] = {o.record().task: o.main_score for o in results.outcomes}
    for backend in ("openvino", "onnx"):
        assert scores[backend].keys() == scores["torch"].keys()
        for task, score in scores["torch"].items():
            assert abs(scores[backend][task] - score) <= 1e-4, (backend, task)


def test_the_cache_never_serves_lower_precision_vectors_to_an_fp32_run(reference, tmp_path):
    shared = EmbeddingCache(tmp_path / "cache")
    low = CachedEncoder(resolve_encoder(MINILM, EncoderOptions(runtime=Runtime("torch", "bf16"))), shared)
    int8 = CachedEncoder(resolve_encoder(MINILM, EncoderOptions(runtime=Runtime("openvino", "int8"),
                                                                 conversions=tmp_path / "models")), shared)
    low_vectors, int8_vectors = low.encode_documents(TEXTS), int8.encode_documents(TEXTS)
    assert not np.allclose(low_vectors, reference, atol=1e-5) and not np.allclose(int8_vectors, reference, atol=1e-5)
    assert np.min(np.sum(low_vectors * reference, axis=1)) > 0.999  # close, but not the same vectors
    exact = CachedEncoder(resolve_encoder(MINILM), shared)
    np.testing.assert_allclose(exact.encode_documents(TEXTS), reference, atol=1e-6)
    assert exact.encoded == len(TEXTS)  # nothing came from the bf16 or int8 rows
    assert len({low.identity(Role.DOCUMENT), int8.identity(Role.DOCUMENT), exact.identity(Role.DOCUMENT)}) == 3


def test_a_warm_run_never_loads_the_model(reference, tmp_path):
    resolve_encoder(MINILM, EncoderOptions(cache=EmbeddingCache(tmp_path))).encode_documents(TEXTS)
    warm = resolve_encoder(MINILM, EncoderOptions(cache=EmbeddingCache(tmp_path)))
    np.testing.assert_allclose(warm.encode_documents(TEXTS), reference, atol=1e-6)
    assert (warm.dimension, warm.max_length, warm.encoded) == (384, 256, 0)
    assert "model" not in warm.inner.__dict__  # identity, dimension and vectors all came from the cache
    warm.encode_documents(["a text no run has encoded"])
    assert "model" in warm.inner.__dict__ and warm.encoded == 1


def test_a_changed_prompt_in_the_model_folder_is_a_new_identity(tmp_path):
    from sentence_transformers import SentenceTransformer

    from glotta.encoders.registry import locate_sentence_transformer

    folder = tmp_path / "model"
    SentenceTransformer(str(locate_sentence_transformer(MINILM)[0])).save(str(folder))
    shared = EmbeddingCache(tmp_path / "cache")
    plain = CachedEncoder(resolve_encoder(str(folder)), shared)
    plain.encode_queries(TEXTS[:1])
    model = SentenceTransformer(str(folder))
    model.prompts = {"query": "query: ", "document": ""}
    model.save(str(folder))  # same weights, new prompt
    prompted = CachedEncoder(resolve_encoder(str(folder)), shared)
    assert prompted.inner.prompts[Role.QUERY] == "query: "
    assert prompted.identity(Role.QUERY) != plain.identity(Role.QUERY)


def test_a_killed_encode_resumes_from_its_last_written_chunk(monkeypatch, tmp_path):
    monkeypatch.setattr(cache_module, "WRITE_CHUNK", 2)
    texts = [f"frase numero {i} con qualche parola in più" for i in range(5)]
    calls = []

    def stop_at_third_chunk(done: int) -> None:
        calls.append(done)
        if len(calls) == 4:  # 1: cached texts, 2-3: two chunks written, 4: the third chunk
            raise KeyboardInterrupt

    first = CachedEncoder(resolve_encoder(MINILM, EncoderOptions(batch_size=2)), EmbeddingCache(tmp_path))
    with pytest.raises(KeyboardInterrupt):
        first.encode_documents(texts, stop_at_third_chunk)
    resumed = CachedEncoder(resolve_encoder(MINILM, EncoderOptions(batch_size=2)), EmbeddingCache(tmp_path))
    vectors = resumed.encode_documents(texts)
    assert resumed.encoded == 1
    np.testing.assert_allclose(vectors, resolve_encoder(MINILM).encode_documents(texts), atol=1e-6)


@pytest.mark.parametrize(("backend", "precision", "message"), [
    ("tpu", "fp32", "unknown backend 'tpu'"),
    ("torch", "fp64", "unknown precision 'fp64'"),
    ("onnx", "bf16", "not available on the onnx backend"),
    ("torch", "int8", "not available on the torch backend"),
])
def test_impossible_runtimes_are_refused(backend, precision, message):
    with pytest.raises(GlottaError, match=message):
        Runtime(backend, precision)


def test_a_backend_that_is_not_installed_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # what Python does for a package that is absent
    with pytest.raises(GlottaError, match="needs onnxruntime") as caught:
        Runtime("onnx", "fp32").check(None)
    assert "pip install 'glotta[onnx]'" in caught.value.fix


def test_the_cli_refuses_a_bad_backend_before_any_work(glotta, small_task, tmp_path):
    from conftest import assert_refused

    out = tmp_path / "results"
    assert_refused(glotta("eval", "-m", MINILM, "-t", small_task, "-o", out, "--backend", "tpu"), "--backend")
    assert_refused(glotta("eval", "-m", MINILM, "-t", small_task, "-o", out, "--backend", "onnx",
                          "--device", "cuda"), "--device")
    assert not out.exists()


def test_several_devices_encode_through_the_multi_process_pool(reference):
    """``cuda:0,cuda:1`` on a GPU machine; two CPU processes here, through the same pool."""
    encoder = resolve_encoder(MINILM, EncoderOptions(device="cpu,cpu"))
    done = []
    vectors = encoder.encode_documents(TEXTS, done.append)
    np.testing.assert_allclose(vectors, reference, atol=1e-6)
    assert encoder._pool is not None and len(encoder._pool["processes"]) == 2 and sum(done) == len(TEXTS)


def test_training_refuses_several_devices_with_the_launcher_as_the_fix():
    from glotta.training.fine_tune import TrainSettings

    with pytest.raises(GlottaError, match="one device per process") as caught:
        TrainSettings(device="cuda:0,cuda:1")
    assert "torchrun" in caught.value.fix
