"""Trim a sentence-transformers model to one language's vocabulary, end to end.

Every input error is raised before the output exists, and the output folder is written beside
its final place and renamed at the end, so a failed or interrupted trim leaves no folder that
looks like a model. Before that rename the saved model is loaded again and compared with the
original on corpus texts whose tokenization did not change: their embeddings must be equal.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from glotta.data.atomic import check_writable, write_json_atomic
from glotta.data.corpus import CorpusReader
from glotta.data.languages import iso639_3, normalise_language
from glotta.errors import GlottaError
from glotta.progress import ProgressReporter, SilentProgress
from glotta.trimming.counting import corpus_texts, count_tokens, counting_tokenizer
from glotta.trimming.coverage import measure_coverage
from glotta.trimming.model import fast_tokenizer, set_tokenizer, slice_embeddings, transformer_module
from glotta.trimming.selection import Ranking, select_ids
from glotta.trimming.tokenizer import (
    alphabet_ids,
    bpe_closure,
    bpe_merges,
    check_supported,
    rebuild_tokenizer,
    special_ids,
)
from glotta.trimming.word_lists import number_token_counts, read_word_frequencies, word_token_weights

REPORT_NAME = "trim_report.json"
LANGUAGE_WARNING_SHARE = 0.5  # below this share of sampled texts in --lang, the corpus is suspect
COVERAGE_WARNING_SHARE = 0.98  # below this share of corpus tokens kept, --size is probably too small
EQUALITY_TEXTS = 8
EQUALITY_TOLERANCE = 1e-4


@dataclass(frozen=True)
class TrimSettings:
    """What ``glotta trim`` reads (model, corpora, word lists), how large a vocabulary it keeps, where it writes."""

    model: str
    corpus: list[Path]
    language: str  # as typed; normalised by trim_model
    size: int
    out: Path
    min_count: int = 2
    keep_corpus: list[Path] = field(default_factory=list)
    max_documents: int | None = None
    overwrite: bool = False
    word_frequencies: list[str] = field(default_factory=list)  # files or "wordfreq"; see word_lists


@dataclass(frozen=True)
class TrimResult:
    """The trim report, and what an evaluation of original against trimmed needs."""

    report: dict  # also saved as trim_report.json in the output folder
    original_folder: Path
    sample: list[str]  # corpus texts, for measuring encode speed


def trim_model(settings: TrimSettings, progress: ProgressReporter | None = None) -> TrimResult:
    """Trim and save ``settings.out`` atomically."""
    from glotta.encoders.registry import locate_sentence_transformer
    from glotta.encoders.sentence_transformer import load_sentence_transformer

    progress = progress or SilentProgress()
    language = normalise_language(settings.language, where="--lang")
    if settings.size < 1 or settings.min_count < 1:
        raise GlottaError("--size and --min-count must be positive", fix="e.g. --size 50000 --min-count 2")
    check_writable(settings.out, "--output")
    reader = CorpusReader(list(settings.corpus))
    base_reader = CorpusReader(list(settings.keep_corpus)) if settings.keep_corpus else None
    word_lists = [read_word_frequencies(source, language) for source in settings.word_frequencies]
    out = settings.out
    folder, name, revision = locate_sentence_transformer(settings.model)
    if out.exists() and out.resolve() == folder.resolve():
        raise GlottaError("the output folder is the model's own folder", fix="pass another --output", path=out)
    if out.exists() and any(out.iterdir()) and not settings.overwrite:  # check_writable refused a file
        raise GlottaError("the output folder exists", fix="pass another --output, or --overwrite to replace it",
                          path=out)

    original = load_sentence_transformer(folder, device="cpu", remote_code_fix=(
        "glotta trim runs no model code: trim a model made of sentence-transformers and transformers classes"))
    module = transformer_module(original, where=str(folder))
    hf_tokenizer = module.tokenizer
    backend = hf_tokenizer.backend_tokenizer
    kind = check_supported(backend, where=str(folder))
    vocabulary = backend.get_vocab_size(with_added_tokens=True)
    if settings.size > vocabulary:
        raise GlottaError(f"--size {settings.size} is larger than the model's vocabulary of {vocabulary} tokens",
                          fix=f"pass --size of at most {vocabulary}")
    prompts = _prompts(original, name)

    counts = _count(backend, reader, settings.corpus, settings.max_documents, progress, "counting tokens")
    skipped = dict(reader.skipped)  # before the coverage pass reads the corpus (and counts) again
    if counts.texts == 0:
        raise GlottaError("the corpus has no usable text", fix="pass a non-empty --corpus",
                          path=settings.corpus[0])
    forced = {
        "special": special_ids(backend),
        "prompt": {i for p in prompts.values() for i in backend.encode(p, add_special_tokens=False).ids},
        "alphabet": alphabet_ids(backend, counts.characters),
    }
    if base_reader is not None:
        base = _count(backend, base_reader, settings.keep_corpus, settings.max_documents, progress, "counting base")
        forced["base vocabulary"] = set(np.flatnonzero(base.counts >= settings.min_count).tolist())
    merges = bpe_merges(backend)
    closure = (lambda token_id: bpe_closure(token_id, merges)) if merges else None
    rankings = [Ranking("corpus", counts.counts, settings.min_count),
                Ranking("numbers", number_token_counts(backend), 1)]
    rankings += [Ranking(f"word list {source}" if len(word_lists) > 1 else "word list",
                         word_token_weights(backend, words), np.finfo(float).tiny)
                 for source, words in zip(settings.word_frequencies, word_lists, strict=True)]
    selection = select_ids(forced, rankings, settings.size, closure)
    kept = selection.kept
    trimmed_backend = rebuild_tokenizer(backend, kept)

    with progress.track("measuring coverage", counts.texts) as advance:
        coverage = measure_coverage(backend, trimmed_backend, kept,
                                    corpus_texts(reader, settings.max_documents), advance)
    # The shortest unchanged texts: the check is about ids and rows, not length, and stays cheap.
    checks = sorted(_unchanged_texts(backend, trimmed_backend, kept, counts.sample), key=len)[:EQUALITY_TEXTS]
    reference = _embed(original, checks, prompts)

    parameters_before = _parameters(original)
    config_changes = slice_embeddings(module.auto_model, kept)
    set_tokenizer(module, fast_tokenizer(hf_tokenizer, trimmed_backend))
    parameters_after = _parameters(original)

    report = {
        "model": name,
        "model_revision": revision,
        "language": language,
        "corpus": [str(p) for p in settings.corpus],
        "keep_corpus": [str(p) for p in settings.keep_corpus],
        "word_frequencies": [{"source": source, "words": len(words)}
                             for source, words in zip(settings.word_frequencies, word_lists, strict=True)],
        "settings": {"size": settings.size, "min_count": settings.min_count, "max_documents": settings.max_documents},
        "tokenizer_model": kind,
        "vocabulary": {
            "original": vocabulary,
            "trimmed": len(kept),
            "kept_by_reason": selection.reasons,
            "eligible_by_ranking": selection.eligible,
            "embedding_rows_original": config_changes["vocab_size"][0],
        },
        "parameters": {"original": parameters_before, "trimmed": parameters_after,
                       "ratio": round(parameters_after / parameters_before, 4)},
        "corpus_texts": counts.texts,
        "corpus_tokens": counts.tokens,
        "skipped_documents": skipped,
        "coverage": coverage.as_dict(),
        "language_check": _language_check(counts.sample, language),
        "config_changes": {k: list(v) for k, v in config_changes.items()},
        "prompts": prompts,
    }
    report["warnings"] = _warnings(report, selection.budget_left, settings)
    _save_atomically(original, out, report, checks, reference, prompts, settings.overwrite)
    return TrimResult(report, folder, counts.sample)


def _count(backend, reader: CorpusReader, paths: list[Path], max_documents, progress, label: str):
    total = estimate_documents(paths)
    total = min(total, max_documents) if max_documents else total
    with progress.track(label, total) as advance:
        return count_tokens(backend, corpus_texts(_advancing(reader, advance), max_documents))


def _advancing(documents: Iterable, advance) -> Iterator:
    for document in documents:
        advance(1)
        yield document


def estimate_documents(paths: list[Path]) -> int:
    """Documents in the corpus files, for the progress bar (cheap: lines, Parquet metadata)."""
    total = 0
    for path in paths:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            total += pq.ParquetFile(path).metadata.num_rows
        elif path.suffix == ".jsonl":
            with path.open("rb") as stream:
                total += sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))
        else:
            total += path.read_bytes().count(b"\n\n\n") + 1
    return total


def _prompts(model, name: str) -> dict[str, str]:
    """The model's own prompts, or the ones glotta knows for its family (E5's query:/passage:).

    The trimmed folder gets a new name, so prompts found by name would be lost: they are
    written into it instead.
    """
    from glotta.encoders.base import Role
    from glotta.encoders.sentence_transformer import role_prompts

    own = {k: v for k, v in (getattr(model, "prompts", None) or {}).items() if v}
    if own:
        return own
    known = role_prompts(model, name)
    if known[Role.QUERY] or known[Role.DOCUMENT]:
        model.prompts = {"query": known[Role.QUERY], "passage": known[Role.DOCUMENT]}
        return dict(model.prompts)
    return {}


def _parameters(model) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def _unchanged_texts(original, trimmed, kept: list[int], texts: list[str]) -> list[str]:
    """Texts the trimmed tokenizer reads exactly as the original (whole text, special tokens too)."""
    original, trimmed = counting_tokenizer(original), counting_tokenizer(trimmed)
    new_id = {old: n for n, old in enumerate(kept)}
    chosen = []
    for text in texts:
        old = original.encode(text).ids
        if all(i in new_id for i in old) and [new_id[i] for i in old] == trimmed.encode(text).ids:
            chosen.append(text)
    return chosen


def _embed(model, texts: list[str], prompts: dict[str, str]) -> list[np.ndarray]:
    if not texts:
        return []
    return [model.encode(texts, prompt=prompt or None, convert_to_numpy=True, show_progress_bar=False)
            for prompt in ["", *sorted(set(prompts.values()))]]


def _language_check(sample: list[str], language: str) -> dict:
    import langid

    target = iso639_3(language)
    detected = Counter()
    for text in sample:
        code, _ = langid.classify(text)
        try:
            detected[iso639_3(normalise_language(code))] += 1
        except GlottaError:  # langid names a few codes langcodes refuses
            detected[code] += 1
    share = detected[target] / len(sample) if sample else None
    return {"sampled_texts": len(sample), "share_in_language": None if share is None else round(share, 4),
            "detected": dict(detected.most_common(5))}


def _warnings(report: dict, budget_left: int, settings: TrimSettings) -> list[str]:
    warnings = []
    check = report["language_check"]
    target = iso639_3(report["language"])
    if check["share_in_language"] is not None and check["share_in_language"] < LANGUAGE_WARNING_SHARE:
        most = next(iter(check["detected"]), "?")
        warnings.append(
            f"only {check['share_in_language']:.0%} of {check['sampled_texts']} sampled corpus texts look like "
            f"{target} (most look like {most}): the kept vocabulary fits the corpus language, so {target} text "
            f"will lose tokens; pass a {target} corpus")
    kept_share = report["coverage"]["corpus_tokens_kept"]
    if kept_share is not None and kept_share < COVERAGE_WARNING_SHARE:
        warnings.append(f"only {kept_share:.1%} of corpus tokens are kept; --size {settings.size} may be too small")
    if budget_left > 0:
        warnings.append(
            f"the corpus (tokens seen at least {settings.min_count} times), the numbers"
            f"{' and the word lists' if settings.word_frequencies else ''} ran out "
            f"before --size {settings.size}: the trimmed vocabulary has {report['vocabulary']['trimmed']} tokens "
            f"(a larger corpus{'' if settings.word_frequencies else ', --word-frequencies wordfreq'} or "
            "--min-count 1 gives more)")
    if report["skipped_documents"]:
        skipped = ", ".join(f"{n} {why}" for why, n in report["skipped_documents"].items())
        warnings.append(f"skipped corpus documents: {skipped}")
    return warnings


def _save_atomically(model, out: Path, report: dict, checks: list[str], reference, prompts, overwrite: bool) -> None:
    from sentence_transformers import SentenceTransformer

    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    try:
        model.save(str(temporary), create_model_card=False)
        reloaded = SentenceTransformer(str(temporary), device="cpu", local_files_only=True)
        again = _embed(reloaded, checks, prompts)
        differences = [float(np.abs(a - b).max()) for a, b in zip(reference, again, strict=True)]
        report["equality_check"] = {"texts": len(checks), "prompts": len(reference),
                                    "max_abs_diff": max(differences, default=None)}
        if differences and max(differences) > EQUALITY_TOLERANCE:
            raise RuntimeError(f"trimmed embeddings differ from the original by {max(differences)} on texts "
                               "whose tokenization is unchanged (a glotta bug)")
        write_json_atomic(temporary / REPORT_NAME, report)
        _portable_tokenizer_class(temporary)
        _usual_modes(temporary)
        if out.exists():
            if not overwrite and not (out.is_dir() and not any(out.iterdir())):  # filled while we worked
                raise GlottaError("the output folder exists", fix="pass another --output, or --overwrite", path=out)
            old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".old"))
            os.replace(out, old / out.name)
            os.replace(temporary, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(temporary, out)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


def _portable_tokenizer_class(folder: Path) -> None:
    """Name the tokenizer class ``PreTrainedTokenizerFast``: transformers 5 saves the name of its
    backend class (``TokenizersBackend``), which transformers 4 cannot load; both read the generic
    name from a tokenizer.json alone."""
    path = folder / "tokenizer_config.json"
    if path.is_file():
        config = json.loads(path.read_text(encoding="utf-8"))
        if config.get("tokenizer_class") == "TokenizersBackend":
            config["tokenizer_class"] = "PreTrainedTokenizerFast"
            write_json_atomic(path, config)


def _usual_modes(folder: Path) -> None:
    """mkdtemp makes the folder 0700 and some savers write 0600 files; give the usual modes."""
    mask = _umask()
    os.chmod(folder, 0o777 & ~mask)
    for path in folder.rglob("*"):
        os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~mask)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_report(folder: Path) -> dict:
    return json.loads((folder / REPORT_NAME).read_text(encoding="utf-8"))
