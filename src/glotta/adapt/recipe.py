"""The recipe of ``glotta adapt``: one YAML file says what the whole study runs on.

Every key is checked before any work: an unknown key, a wrong type or an impossible value is
one error naming the file and the key (``budget.trials``) with the fix. Paths are relative to
the recipe's folder. Sections and their defaults are the dataclasses below; a recipe needs only
``language``, ``documents``, ``candidates`` and ``output``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import get_type_hints

from glotta.data.languages import normalise_language
from glotta.data.records import parse_yaml, read_text
from glotta.errors import GlottaError


@dataclass(frozen=True)
class BenchmarkRecipe:
    """The custom benchmark (``glotta rag build``): test queries come from these sources only."""

    sources: tuple[str, ...] = ("heading",)
    queries: int = 400
    per_document: int = 1
    dev_share: float = 0.5  # of the documents holding queries: dev (tuning), the rest test (the verdict)
    max_documents: int | None = 2000
    chunk_tokens: int = 200
    tokenizer: str | None = None  # default: rag build's


@dataclass(frozen=True)
class DataRecipe:
    """Training triplets from the documents that hold no dev or test query."""

    pairs: str = "sentence"  # glotta triplets' pair strategy: not a source of the benchmark's queries
    miner: str = "bm25"  # never the model being adapted (circular negatives)
    pairs_per_document: int = 2
    num_negatives: int = 1
    # how deep the miner's ranking is read for them: queries shared by many documents (a book's title
    # over its chapters) need it deeper, since the margin filter drops the equally good ones on top
    range_max: int = 10
    # random negatives added per pair (the Italian study's hard:random mix); a pair whose hard window
    # the margin filter emptied still trains with one
    random_negatives: int = 0
    max_documents: int | None = None
    general: tuple[str, ...] = ()  # general-language pair files tune may mix in


@dataclass(frozen=True)
class TrimRecipe:
    """Optional vocabulary trim (``glotta trim``) of the model to adapt, before tuning, counted on the
    training documents only (the dev and test documents decide nothing before the verdict)."""

    size: int | None = None  # tokens to keep; none: no trim stage
    min_count: int = 2
    keep: tuple[str, ...] = ()  # corpora whose tokens are always kept, e.g. English ones to protect eng
    word_frequencies: tuple[str, ...] = ()  # 'word<TAB>count' files or 'wordfreq[:LANG]', filling the size


@dataclass(frozen=True)
class BudgetRecipe:
    """How much tuning the machine can afford (the Italian study's steps times ``steps_scale``)."""

    trials: int = 8
    space: str = "default"  # glotta tune's default space, or a space YAML file
    steps_scale: float = 0.005
    batch_size: int = 16
    max_seq_length: int | None = 128
    eval_queries: int = 200
    eval_steps: int = 50
    max_general_drop: float = 0.5  # points of main score, on the constraint task and on each protected benchmark
    constraint_task: str | None = None  # general retrieval task tune watches; default: the language's first
    merge: tuple[float, ...] = (0.25, 0.5, 0.75)  # alphas of the merge sweep after tuning


@dataclass(frozen=True)
class Recipe:
    language: str
    documents: tuple[str, ...]
    candidates: tuple[str, ...]
    output: str
    adapt: str | None = None  # the candidate to adapt; default: the best dense one on the dev split
    shortlist: int = 0  # more candidates: the N best on the language leaderboard of the MTEB results
    protect: tuple[str, ...] = ()  # general benchmarks / task folders; default: the language's benchmark and eng
    mteb_results: str | None = None  # default: <data root>/mteb-results
    seed: int = 42
    device: str | None = None
    cache: str | None = None  # embedding cache folder; default glotta's
    benchmark: BenchmarkRecipe = field(default_factory=BenchmarkRecipe)
    data: DataRecipe = field(default_factory=DataRecipe)
    trim: TrimRecipe = field(default_factory=TrimRecipe)
    budget: BudgetRecipe = field(default_factory=BudgetRecipe)
    folder: Path = Path(".")  # where the recipe file is: relative paths start there

    def path(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.folder / path).resolve()

    def model(self, value: str) -> str:
        """A candidate as glotta loads it: a folder beside the recipe becomes its path, else a name."""
        local = self.folder / value
        return str(local.resolve()) if not Path(value).is_absolute() and local.exists() else value


REQUIRED = ("language", "documents", "candidates", "output")
RECIPE_FIX = "see `glotta adapt --help` for a recipe's keys"


def load_recipe(path: Path) -> Recipe:
    raw = parse_yaml(read_text(path), path)
    if not isinstance(raw, dict):
        raise GlottaError("a recipe is a mapping of keys", fix="write 'language: nld', 'documents: [...]', ...",
                          path=path)
    missing = [key for key in REQUIRED if key not in raw]
    if missing:
        raise GlottaError(f"the recipe has no {', '.join(missing)}", path=path,
                          fix="a recipe names at least: language, documents, candidates, output")
    recipe = _section(Recipe, {k: v for k, v in raw.items() if k != "folder"}, path, "", {"folder"})
    recipe = replace(recipe, folder=path.resolve().parent)
    return check(recipe, path)


def _section(kind, raw: object, path: Path, prefix: str, hidden: set[str] = frozenset()):
    """One recipe mapping as the dataclass ``kind``, each value checked against its annotation."""
    if not isinstance(raw, dict):
        raise GlottaError(f"{prefix.rstrip('.') or 'the recipe'} must be a mapping", path=path, fix=RECIPE_FIX)
    known = {f.name for f in fields(kind)} - hidden
    unknown = sorted(set(raw) - known)
    if unknown:
        raise GlottaError(f"unknown recipe key {prefix}{unknown[0]}", path=path,
                          fix=f"keys here: {', '.join(sorted(known))}")
    hints = get_type_hints(kind)
    values = {}
    for name, value in raw.items():
        hint, key = hints[name], f"{prefix}{name}"
        if is_dataclass(hint):
            values[name] = _section(hint, value, path, f"{key}.")
        else:
            values[name] = _value(value, hint, key, path)
    return kind(**values)


def _value(value: object, hint, key: str, path: Path):
    """``value`` as the annotation ``hint`` wants (str, int, float, bool, optional, tuples), or the error."""
    text = str(hint)
    if value is None:
        if "None" in text:
            return None
        raise GlottaError(f"recipe key {key} has no value", path=path, fix=f"give {key} a value or leave it out")
    if "tuple" in text:
        items = [value] if isinstance(value, str | int | float) else value
        if not isinstance(items, list) or (not items and key in {"documents", "candidates"}):
            raise GlottaError(f"recipe key {key} must be a list", path=path, fix=f"write e.g. '{key}: [a, b]'")
        item_kind = float if "float" in text else str
        return tuple(_scalar(item, item_kind, f"{key}[{n}]", path) for n, item in enumerate(items))
    kind = int if "int" in text else float if "float" in text else str
    return _scalar(value, kind, key, path)


def _scalar(value: object, kind: type, key: str, path: Path):
    ok = (isinstance(value, int) and not isinstance(value, bool) if kind is int
          else isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
          if kind is float else isinstance(value, str) and value.strip() != "")
    if not ok:
        article = {"int": "a whole number", "float": "a number", "str": "a non-empty text"}[kind.__name__]
        raise GlottaError(f"recipe key {key} must be {article}, not {value!r}", path=path, fix=RECIPE_FIX)
    return float(value) if kind is float else value


def check(recipe: Recipe, path: Path) -> Recipe:
    """Values each key allows; the language code is normalised (``nl`` -> ``nld``)."""
    budget, benchmark, data = recipe.budget, recipe.benchmark, recipe.data
    checks = [
        (recipe.shortlist >= 0, "shortlist", "a number of models >= 0"),
        (0 < benchmark.dev_share < 1, "benchmark.dev_share", "between 0 and 1, e.g. 0.5"),
        (benchmark.queries >= 2, "benchmark.queries", "at least 2 (some for dev, some for test)"),
        (benchmark.per_document >= 1, "benchmark.per_document", "1 or more"),
        (benchmark.max_documents is None or benchmark.max_documents >= 2, "benchmark.max_documents", "2 or more"),
        (benchmark.chunk_tokens >= 16, "benchmark.chunk_tokens", "16 or more"),
        (data.pairs_per_document >= 1, "data.pairs_per_document", "1 or more"),
        (data.num_negatives >= 1, "data.num_negatives", "1 or more"),
        (data.range_max >= data.num_negatives, "data.range_max", f"at least data.num_negatives ({data.num_negatives})"),
        (data.random_negatives >= 0, "data.random_negatives", "0 or more"),
        (data.max_documents is None or data.max_documents >= 1, "data.max_documents", "1 or more"),
        (recipe.trim.size is None or recipe.trim.size >= 1, "trim.size", "a number of tokens >= 1, e.g. 50000"),
        (recipe.trim.min_count >= 1, "trim.min_count", "1 or more"),
        (budget.trials >= 1, "budget.trials", "1 or more"),
        (0 < budget.steps_scale <= 1, "budget.steps_scale", "in (0, 1], e.g. 0.005"),
        (budget.batch_size >= 2, "budget.batch_size", "2 or more (in-batch negatives)"),
        (budget.max_seq_length is None or budget.max_seq_length >= 8, "budget.max_seq_length", "8 or more"),
        (budget.eval_queries >= 1, "budget.eval_queries", "1 or more"),
        (budget.eval_steps >= 1, "budget.eval_steps", "1 or more"),
        (budget.max_general_drop >= 0, "budget.max_general_drop", "points >= 0, e.g. 0.5"),
        (all(0 < a < 1 for a in budget.merge), "budget.merge", "alphas strictly between 0 and 1"),
    ]
    for ok, key, allowed in checks:
        if not ok:
            raise GlottaError(f"recipe key {key} is out of range", path=path, fix=f"give {key} {allowed}")
    if recipe.adapt is not None and recipe.adapt not in recipe.candidates:
        raise GlottaError(f"recipe key adapt names {recipe.adapt!r}, which is not a candidate", path=path,
                          fix=f"name one of: {', '.join(recipe.candidates)}")
    if recipe.data.miner in {recipe.adapt, *([] if recipe.adapt else recipe.candidates)} - {"bm25"}:
        raise GlottaError(f"data.miner {recipe.data.miner} may be the model being adapted: its negatives would "
                          "reinforce its own blind spots (circular negatives)", path=path,
                          fix="mine with bm25 or a model that is not a candidate for adapting")
    for key, values in (("documents", recipe.documents), ("trim.keep", recipe.trim.keep)):
        for value in values:
            if not recipe.path(value).exists():
                raise GlottaError(f"{key}: {value} does not exist", path=path, fix="check the path (relative to "
                                  "the recipe's folder)")
    return replace(recipe, language=normalise_language(recipe.language, where=str(path)))
