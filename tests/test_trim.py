"""Vocabulary trimming: equal embeddings for fully kept texts, special tokens, clean folders, bad input.

Tiny random models built here (a Unigram tokenizer trained on Italian text with an XLM-R
encoder; the real all-MiniLM-L6-v2 WordPiece tokenizer with a 2-layer BERT; a byte-level BPE)
keep the file fast; one slow test trims the real all-MiniLM-L6-v2.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import DATA, run_cli
from glotta.data.corpus import CorpusReader
from glotta.errors import GlottaError
from glotta.trimming.counting import corpus_texts
from glotta.trimming.selection import Ranking, select_ids
from glotta.trimming.trim import REPORT_NAME, TrimSettings, trim_model
from glotta.trimming.word_lists import read_word_frequencies

ITALIAN = DATA / "corpora/it/eltec_ita/docs.jsonl"
DUTCH = DATA / "corpora/nl/ud_alpino/docs.jsonl"
DOCUMENTS = 40
PROMPTS = {"query": "query: ", "passage": "passage: "}


def italian_texts(documents: int = DOCUMENTS) -> list[str]:
    return list(corpus_texts(CorpusReader([ITALIAN]), documents))


def _sentence_transformer(model_folder: Path, out: Path, pooling: str, prompts: dict | None) -> Path:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    transformer = Transformer(str(model_folder), max_seq_length=128)
    modules = [transformer, Pooling(transformer.get_embedding_dimension(), pooling_mode=pooling), Normalize()]
    SentenceTransformer(modules=modules, prompts=prompts, device="cpu").save(str(out))
    return out


def _saved_encoder(encoder, tokenizer, tmp_path_factory, name: str, pooling: str, prompts: dict | None = None) -> Path:
    """Save a random transformers encoder with its tokenizer, then wrap it as a sentence-transformers folder."""
    folder = tmp_path_factory.mktemp(f"{name}-hf")
    encoder.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return _sentence_transformer(folder, tmp_path_factory.mktemp(name) / "model", pooling, prompts)


def _hf_fast_tokenizer(backend, **special):
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_object=backend, model_max_length=128, **special)


@pytest.fixture(scope="module")
def unigram_model(tmp_path_factory) -> Path:
    """XLM-R style: Unigram + Metaspace + '<s> $A </s>', pad id 1, random 2-layer XLMRobertaModel."""
    import torch
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import XLMRobertaConfig, XLMRobertaModel

    specials = ["<s>", "<pad>", "</s>", "<unk>", AddedToken("<mask>", lstrip=True, special=True, normalized=False)]
    backend = Tokenizer(models.Unigram())
    backend.normalizer = normalizers.NFKC()
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    backend.decoder = decoders.Metaspace()
    backend.train_from_iterator(italian_texts(80), trainers.UnigramTrainer(
        vocab_size=1500, special_tokens=specials, unk_token="<unk>", show_progress=False))
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    tokenizer = _hf_fast_tokenizer(backend, bos_token="<s>", eos_token="</s>", unk_token="<unk>", sep_token="</s>",
                                   pad_token="<pad>", cls_token="<s>",
                                   mask_token=AddedToken("<mask>", lstrip=True, special=True))
    torch.manual_seed(0)
    config = XLMRobertaConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                              intermediate_size=64, max_position_embeddings=130, pad_token_id=1, bos_token_id=0,
                              eos_token_id=2)
    out = _saved_encoder(XLMRobertaModel(config), tokenizer, tmp_path_factory, "unigram", "mean", PROMPTS)
    (out / "sentencepiece.bpe.model").write_bytes(b"stale: the 1500-piece model before trimming")
    return out


@pytest.fixture(scope="module")
def wordpiece_model(tmp_path_factory) -> Path:
    """The real all-MiniLM-L6-v2 WordPiece tokenizer ([UNK]=100, [CLS]=101) on a random 2-layer BERT."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from glotta.encoders.registry import locate_sentence_transformer

    source, _, _ = locate_sentence_transformer("sentence-transformers/all-MiniLM-L6-v2")
    tokenizer = AutoTokenizer.from_pretrained(str(source))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, pad_token_id=0)
    out = _saved_encoder(BertModel(config), tokenizer, tmp_path_factory, "wordpiece", "cls")
    shutil.copy(source / "vocab.txt", out / "vocab.txt")  # a stale 30,522-line vocabulary beside tokenizer.json
    return out


@pytest.fixture(scope="module")
def bpe_model(tmp_path_factory) -> Path:
    """Byte-level BPE (RoBERTa style) trained on Italian text, random 2-layer BERT."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    backend.decoder = decoders.ByteLevel()
    backend.train_from_iterator(italian_texts(120), trainers.BpeTrainer(
        vocab_size=1500, special_tokens=["<s>", "<pad>", "</s>", "<unk>"], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    backend.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0))
    tokenizer = _hf_fast_tokenizer(backend, bos_token="<s>", eos_token="</s>", unk_token="<unk>", sep_token="</s>",
                                   pad_token="<pad>", cls_token="<s>")
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, pad_token_id=1)
    return _saved_encoder(BertModel(config), tokenizer, tmp_path_factory, "bpe", "mean")


def _trim(model: Path, out: Path, size: int, corpus=(ITALIAN,), **options):
    settings = TrimSettings(str(model), list(corpus), options.pop("lang", "ita"), size, out,
                            max_documents=options.pop("max_documents", DOCUMENTS), **options)
    return trim_model(settings)


def _assert_equal_on_kept_texts(original_folder: Path, trimmed_folder: Path, prompt: str | None = None) -> int:
    """Every corpus text whose tokens all survive is embedded exactly as before."""
    from sentence_transformers import SentenceTransformer

    original = SentenceTransformer(str(original_folder), device="cpu")
    trimmed = SentenceTransformer(str(trimmed_folder), device="cpu")  # plain loading, no glotta
    vocabulary = set(trimmed.tokenizer.get_vocab())
    texts = [sentence for text in italian_texts() for sentence in text.split(". ")][:600]
    tokenize = original.tokenizer
    length = original.max_seq_length
    kept = [t for t in texts if set(tokenize.convert_ids_to_tokens(
        tokenize(t, truncation=True, max_length=length)["input_ids"])) <= vocabulary]
    lost = [t for t in texts if t not in kept]
    assert len(kept) >= 40 and lost, "the trim should keep most texts whole and change some"
    before = original.encode(kept, prompt=prompt, convert_to_numpy=True)
    after = trimmed.encode(kept, prompt=prompt, convert_to_numpy=True)
    np.testing.assert_allclose(after, before, atol=1e-6)
    return len(kept)


def test_unigram_trim_keeps_embeddings_specials_prompts_and_pooling(unigram_model, tmp_path):
    from sentence_transformers import SentenceTransformer

    out = tmp_path / "trimmed"
    report = _trim(unigram_model, out, 1000).report
    assert report["tokenizer_model"] == "Unigram"
    assert report["vocabulary"]["trimmed"] == 1000 and report["vocabulary"]["kept_by_reason"]["prompt"] > 0
    assert report["equality_check"]["max_abs_diff"] == 0.0
    assert report["coverage"]["texts_all_kept_but_retokenized"] == 0
    assert 0.5 < report["coverage"]["corpus_tokens_kept"] < 1
    assert _assert_equal_on_kept_texts(unigram_model, out, prompt="query: ") >= 40

    trimmed = SentenceTransformer(str(out), device="cpu")
    assert trimmed.prompts["query"] == "query: " and trimmed.prompts["passage"] == "passage: "
    assert trimmed[1].get_config_dict() == SentenceTransformer(str(unigram_model), device="cpu")[1].get_config_dict()
    tokenizer = trimmed.tokenizer
    # Special tokens are all there, with their flags (<mask> strips on the left) and consistent ids.
    assert [tokenizer.convert_ids_to_tokens(i) for i in range(4)] == ["<s>", "<pad>", "</s>", "<unk>"]
    mask = {str(t): t for t in tokenizer.added_tokens_decoder.values()}["<mask>"]
    assert mask.lstrip and tokenizer.mask_token == "<mask>"
    assert tokenizer("ciao")["input_ids"][0] == 0 and tokenizer("ciao")["input_ids"][-1] == 2
    transformer = trimmed[0].auto_model
    assert transformer.config.pad_token_id == tokenizer.pad_token_id == 1
    assert transformer.get_input_embeddings().padding_idx == 1
    assert transformer.get_input_embeddings().num_embeddings == len(tokenizer) == 1000
    # Unknown words fall back to kept characters, not to <unk>: the corpus alphabet is kept.
    assert "<unk>" not in tokenizer.tokenize("Zanzibar quokka")
    # Evaluation tasks are measured the same way: texts made only of kept pieces are read unchanged.
    from glotta.trimming.coverage import unchanged_share

    original_tokenizer = SentenceTransformer(str(unigram_model), device="cpu").tokenizer.backend_tokenizer
    sentences = list(dict.fromkeys(s for text in italian_texts() for s in text.split(". ")))[:300]
    vocabulary = set(tokenizer.get_vocab())
    whole = sum(set(original_tokenizer.encode(s, add_special_tokens=False).tokens) <= vocabulary for s in sentences)
    assert 0 < whole < len(sentences)
    assert unchanged_share(original_tokenizer, tokenizer.backend_tokenizer, sentences) == round(whole / len(sentences), 6)
    # The stale SentencePiece model of the 1500-piece vocabulary is not carried over.
    assert not (out / "sentencepiece.bpe.model").exists()
    assert json.loads((out / REPORT_NAME).read_text())["vocabulary"]["trimmed"] == 1000


def test_wordpiece_trim_renumbers_specials_and_drops_stale_vocab(wordpiece_model, tmp_path):
    from sentence_transformers import SentenceTransformer

    out = tmp_path / "trimmed"
    report = _trim(wordpiece_model, out, 1500).report
    assert report["tokenizer_model"] == "WordPiece" and report["vocabulary"]["trimmed"] == 1500
    assert report["equality_check"]["max_abs_diff"] == 0.0
    assert _assert_equal_on_kept_texts(wordpiece_model, out) >= 40
    trimmed = SentenceTransformer(str(out), device="cpu")
    tokenizer = trimmed.tokenizer
    ids = tokenizer("ciao")["input_ids"]
    assert tokenizer.convert_ids_to_tokens([ids[0], ids[-1]]) == ["[CLS]", "[SEP]"]
    assert {tokenizer.unk_token_id, tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.mask_token_id} == {1, 2, 3, 4}
    assert trimmed[0].auto_model.config.pad_token_id == tokenizer.pad_token_id == 0
    assert trimmed[1].get_config_dict()["pooling_mode"] == "cls"
    assert "token_type_ids" in tokenizer.model_input_names
    assert "[UNK]" not in tokenizer.tokenize("xylofono quokka")  # kept letters and ##letters
    vocab_file = out / "vocab.txt"  # absent, or written anew from the trimmed vocabulary
    assert not vocab_file.exists() or len(vocab_file.read_text().splitlines()) == 1500


def test_bpe_trim_keeps_merge_parts(bpe_model, tmp_path):
    out = tmp_path / "trimmed"
    report = _trim(bpe_model, out, 900).report
    assert report["tokenizer_model"] == "BPE" and report["vocabulary"]["trimmed"] <= 900
    assert report["vocabulary"]["kept_by_reason"]["alphabet"] >= 256  # the byte alphabet
    assert report["coverage"]["texts_all_kept_but_retokenized"] == 0
    assert report["equality_check"]["max_abs_diff"] == 0.0
    _assert_equal_on_kept_texts(bpe_model, out)


def test_trimmed_model_trains_with_glotta_train(unigram_model, tmp_path):
    from sentence_transformers import SentenceTransformer

    from conftest import write_jsonl

    trimmed = tmp_path / "trimmed"
    _trim(unigram_model, trimmed, 600)
    texts = [t for t in italian_texts() if len(t.split()) > 12][:48]
    rows = [{"query": " ".join(t.split()[:8]), "positive": " ".join(t.split()[8:]), "negatives": [texts[-1 - i]]}
            for i, t in enumerate(texts[:24])]
    write_jsonl(tmp_path / "triplets.jsonl", rows)
    result = run_cli("train", str(trimmed), "--data", str(tmp_path / "triplets.jsonl"), "--out", str(tmp_path / "tuned"),
                     "--max-steps", "2", "--batch-size", "8")
    assert result.returncode == 0, result.stderr
    tuned = SentenceTransformer(str(tmp_path / "tuned"), device="cpu")
    assert len(tuned.tokenizer) == 600 and tuned.prompts["query"] == "query: "
    assert tuned.encode(["Una frase italiana."]).shape == (1, 32)


def test_base_vocabulary_is_kept(unigram_model, tmp_path):
    english = tmp_path / "english.txt"
    english.write_text("The committee will meet on Thursday to discuss the budget.\n\n"
                       "The committee will meet on Thursday to discuss the budget.", encoding="utf-8")
    result = _trim(unigram_model, tmp_path / "trimmed", 400, keep_corpus=[english])
    assert result.report["vocabulary"]["kept_by_reason"]["base vocabulary"] > 0
    from tokenizers import Tokenizer

    trimmed = Tokenizer.from_file(str(tmp_path / "trimmed" / "tokenizer.json"))
    original = Tokenizer.from_file(str(unigram_model / "tokenizer.json"))
    sentence = "The committee will meet on Thursday to discuss the budget."
    assert trimmed.encode(sentence).tokens == original.encode(sentence).tokens


def test_wrong_language_corpus_is_warned(unigram_model, tmp_path):
    report = _trim(unigram_model, tmp_path / "trimmed", 600, corpus=(DUTCH,), max_documents=None).report
    assert report["language_check"]["share_in_language"] < 0.5
    assert any("look like ita" in w and "most look like nld" in w for w in report["warnings"])


def test_selection_forced_first_then_rankings_in_order_within_size():
    counts = np.array([0, 0, 9, 1, 5, 5, 7, 3])
    corpus = [Ranking("corpus", counts, 2)]
    selection = select_ids({"special": {0, 1}}, corpus, size=5)
    assert selection.kept == [0, 1, 2, 4, 6] and selection.reasons == {"special": 2, "corpus": 3}
    merges = {6: (3, 5)}  # token 6 is built from 3 and 5: it is kept only with both
    with_parts = select_ids({"special": {0, 1}}, corpus, size=5, closure=lambda i: {i, *merges.get(i, ())})
    assert with_parts.kept == [0, 1, 2, 4, 5]  # 6 with its parts 3 and 5 does not fit after 2; 4 and 5 do
    # A later ranking only fills what the corpus left, however high its own scores.
    word_list = Ranking("word list", np.array([0, 0, 0, 0.9, 0, 0, 0, 0.1]), 0.05)
    filled = select_ids({"special": {0, 1}}, [*corpus, word_list], size=8)
    assert filled.kept == list(range(8)) and filled.reasons["word list"] == 1 and filled.budget_left == 0
    assert filled.eligible == {"corpus": 5, "word list": 2}  # 7 is eligible for both: kept once, by the corpus
    with pytest.raises(GlottaError, match="smaller than the 2 tokens that are always kept"):
        select_ids({"special": {0, 1}}, corpus, size=1)


def test_word_frequency_list_fills_the_size_after_the_corpus(unigram_model, tmp_path):
    from tokenizers import Tokenizer

    words = tmp_path / "words.tsv"
    words.write_text("Toscana\t90\nfilosofia 70\n\nrinascimentale\t5\n", encoding="utf-8")
    few = 3  # documents: the corpus alone cannot fill the size
    alone = _trim(unigram_model, tmp_path / "alone", 1200, max_documents=few).report
    filled = _trim(unigram_model, tmp_path / "filled", 1200, max_documents=few, word_frequencies=[str(words)]).report
    assert filled["vocabulary"]["kept_by_reason"]["word list"] > 0
    assert filled["vocabulary"]["trimmed"] > alone["vocabulary"]["trimmed"]
    assert any("ran out before --size 1200" in w and "--word-frequencies wordfreq" in w for w in alone["warnings"])
    assert filled["word_frequencies"] == [{"source": str(words), "words": 3}]
    original = Tokenizer.from_file(str(unigram_model / "tokenizer.json"))
    trimmed = Tokenizer.from_file(str(tmp_path / "filled" / "tokenizer.json"))
    for text in ("Toscana", "filosofia", "Filosofia", "rinascimentale"):  # as written and Capitalized
        assert trimmed.encode(text).tokens == original.encode(text).tokens, text


def test_word_frequency_lists_are_validated(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("casa\t12\nla casa 3\n", encoding="utf-8")
    with pytest.raises(GlottaError, match="line 2 is not 'word<TAB>count'") as error:
        read_word_frequencies(str(bad), "ita-Latn")
    assert str(bad) in str(error.value)
    bad.write_text("casa\t-1\n", encoding="utf-8")
    with pytest.raises(GlottaError, match="line 1"):
        read_word_frequencies(str(bad), "ita-Latn")
    bad.write_bytes("città\t4\n".encode("latin-1"))
    with pytest.raises(GlottaError, match="not UTF-8"):
        read_word_frequencies(str(bad), "ita-Latn")
    bad.write_text("\n\n", encoding="utf-8")
    with pytest.raises(GlottaError, match="list is empty"):
        read_word_frequencies(str(bad), "ita-Latn")
    with pytest.raises(GlottaError, match="no such word-frequency file"):
        read_word_frequencies(str(tmp_path / "missing.tsv"), "ita-Latn")
    with pytest.raises(GlottaError, match="wordfreq has no word list for 'xho'"):  # not its English fallback
        read_word_frequencies("wordfreq", "xho-Latn")
    italian = read_word_frequencies("wordfreq", "ita-Latn")
    assert len(italian) > 100_000 and italian[0][0] == "di" and abs(sum(f for _, f in italian) - 1) < 1e-6
    assert read_word_frequencies("wordfreq:en", "ita-Latn")[0][0] == "the"  # another language's list, by name
    with pytest.raises(GlottaError, match="--word-frequencies: unknown language code 'english'"):
        read_word_frequencies("wordfreq:english", "ita-Latn")


def test_bad_input_is_refused_before_any_output(unigram_model, wordpiece_model, tmp_path):
    out = tmp_path / "trimmed"
    with pytest.raises(GlottaError, match="larger than the model's vocabulary of 1500 tokens"):
        _trim(unigram_model, out, 5000)
    with pytest.raises(GlottaError, match=r"smaller than the .* tokens that are always kept"):
        _trim(unigram_model, out, 3)
    with pytest.raises(GlottaError, match="unknown language code"):
        _trim(unigram_model, out, 600, lang="xx-nonsense")
    slow = tmp_path / "slow"  # the same model with only a slow (Python) tokenizer
    shutil.copytree(wordpiece_model, slow)
    (slow / "tokenizer.json").unlink()
    config = json.loads((slow / "tokenizer_config.json").read_text())
    (slow / "tokenizer_config.json").write_text(json.dumps({**config, "tokenizer_class": "BertTokenizerLegacy"}))
    with pytest.raises(GlottaError, match="no fast tokenizer"):
        _trim(slow, out, 600)
    assert not out.exists() and not list(tmp_path.glob(".trimmed*"))


def test_output_is_atomic(unigram_model, tmp_path, monkeypatch):
    import glotta.trimming.trim as trim_module

    out = tmp_path / "trimmed"
    out.mkdir()
    (out / "keep.txt").write_text("a previous result")
    with pytest.raises(GlottaError, match="the output folder exists"):
        _trim(unigram_model, out, 600)

    def disk_full(folder):
        raise OSError("No space left on device")

    monkeypatch.setattr(trim_module, "_portable_tokenizer_class", disk_full)  # fails after the weights are written
    with pytest.raises(OSError, match="No space left"):
        _trim(unigram_model, out, 600, overwrite=True)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]  # the old folder is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trimmed"]  # no temporary folder left behind


def test_cli_trims_and_refuses_bad_input_in_one_line(unigram_model, tmp_path, glotta):
    out = tmp_path / "trimmed"
    done = glotta("trim", unigram_model, "--corpus", ITALIAN, "--lang", "it", "--size", "600",
                  "--max-documents", DOCUMENTS, "--out", out)
    assert done.returncode == 0 and "corpus tokens kept" in done.stdout and (out / REPORT_NAME).is_file()
    refused = run_cli("trim", str(unigram_model), "--corpus", str(ITALIAN), "--lang", "italiano", "--size", "600",
                      "--out", str(tmp_path / "refused"))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "--lang: unknown language code 'italiano'" in refused.stderr and not (tmp_path / "refused").exists()


@pytest.mark.slow
def test_real_minilm_trimmed_for_italian_embeds_kept_texts_identically(tmp_path):
    from glotta.encoders.registry import locate_sentence_transformer

    name = "sentence-transformers/all-MiniLM-L6-v2"  # resolved offline to the packaged weights
    source, _, _ = locate_sentence_transformer(name)
    out = tmp_path / "minilm-ita"
    report = _trim(name, out, 8000, max_documents=300).report
    assert report["parameters"]["ratio"] < 0.6 and report["coverage"]["corpus_tokens_kept"] > 0.99
    assert _assert_equal_on_kept_texts(source, out) >= 200
