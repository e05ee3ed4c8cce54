"""What a benchmark entry or a ``task.yaml`` says about a task, validated before any data is read."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path

from glotta.data.languages import normalise_language
from glotta.data.safe_names import safe_component
from glotta.data.tasks import TaskType
from glotta.errors import GlottaError


@dataclass(frozen=True)
class TaskSpec:
    """Settings of one task; ``None`` means "infer it from the data"."""

    path: Path | None = None
    hf: str | None = None  # Hugging Face dataset id
    mteb: str | None = None  # an MTEB task or benchmark name, from mteb's registry
    subset: str | None = None
    revision: str | None = None
    name: str | None = None
    type: TaskType | None = None
    languages: tuple[str, ...] | None = None
    split: str | None = None
    license: str | None = None
    origin: str | None = None
    evaluator: dict | None = None  # evaluator settings, checked once the type is known
    where: str | None = None  # where the settings were written, for error messages

    def updated(self, other: TaskSpec) -> TaskSpec:
        """``self`` with every field that ``other`` sets taken from ``other``.

        Evaluator settings merge key by key, so a benchmark entry can change one setting of a
        ``task.yaml``.
        """
        changes = {f.name: getattr(other, f.name) for f in fields(other)}
        merged = replace(self, **{k: v for k, v in changes.items() if v is not None})
        if self.evaluator and other.evaluator:
            merged = replace(merged, evaluator={**self.evaluator, **other.evaluator})
        return merged


ENTRY_FIX = "write '- path: tasks/it/retrieval_squad_it', '- hf: <dataset id>' or '- mteb: <MTEB task name>'"
_KEYS = {"path", "hf", "mteb", "subset", "revision", "name", "type", "language", "languages", "split",
         "license", "source", "evaluator"}

_MTEB_KEYS = {"mteb", "subset", "split"}


def parse_task_spec(raw: object, *, where: str, base: Path | None) -> TaskSpec:
    """Read a mapping from YAML into a TaskSpec; ``base`` resolves relative paths."""
    if isinstance(raw, str):
        raw = {"path": raw}
    if not isinstance(raw, dict):
        raise GlottaError(
            f"a task entry must be a mapping or a path, got {type(raw).__name__}",
            fix=ENTRY_FIX,
            path=where,
        )
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise GlottaError(
            f"unknown task setting(s) {', '.join(map(repr, unknown))}",
            fix=f"allowed settings: {', '.join(sorted(_KEYS))}",
            path=where,
        )
    if "language" in raw and "languages" in raw:
        raise GlottaError("give 'language' or 'languages', not both", path=where)
    languages = raw.get("languages", raw.get("language"))
    if languages is not None:
        items = [languages] if isinstance(languages, str) else languages
        if not isinstance(items, list) or not items or not all(isinstance(code, str) for code in items):
            raise GlottaError(f"languages must be a code or a list of codes, got {languages!r}",
                              fix="write e.g. 'language: ita' or 'languages: [eng, ita]'", path=where)
        languages = tuple(normalise_language(code, where=where) for code in items)
    if "mteb" in raw and set(raw) - _MTEB_KEYS:
        raise GlottaError(
            f"an 'mteb:' entry takes its type, languages, revision and evaluator from mteb; "
            f"{', '.join(map(repr, sorted(set(raw) - _MTEB_KEYS)))} cannot be set",
            fix="keep only 'mteb:', 'subset:' and 'split:' in the entry, or copy the data into a task folder",
            path=where,
        )
    task_type = raw.get("type")
    if task_type is not None:
        try:
            task_type = TaskType(task_type)
        except ValueError:
            raise GlottaError(
                f"unknown task type {task_type!r}",
                fix=f"use one of {', '.join(t.value for t in TaskType)}",
                path=where,
            ) from None
    evaluator = raw.get("evaluator")
    if evaluator is not None and not isinstance(evaluator, dict):
        raise GlottaError("'evaluator' must be a mapping of settings",
                          fix="write e.g. 'evaluator: {samples_per_label: 32}'", path=where)
    path = _optional_str(raw, "path", where)
    if path is not None:
        path = Path(path).expanduser()
        if not path.is_absolute() and base is not None:
            path = base / path
    return TaskSpec(
        path=path,
        hf=_optional_str(raw, "hf", where),
        mteb=_optional_str(raw, "mteb", where),
        subset=_file_name(raw, "subset", where),
        revision=_file_name(raw, "revision", where),
        name=_file_name(raw, "name", where),
        type=task_type,
        languages=languages,
        split=_file_name(raw, "split", where),
        license=_optional_str(raw, "license", where),
        origin=_optional_str(raw, "source", where),
        evaluator=evaluator,
        where=where if evaluator is not None else None,
    )


def _optional_str(raw: dict, key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is not None and (not isinstance(value, str | int | float) or isinstance(value, bool)):
        raise GlottaError(f"setting {key!r} must be text, got {value!r}",
                          fix=f"write '{key}:' followed by one word or path, not a list or mapping", path=where)
    return None if value is None else str(value)


def _file_name(raw: dict, key: str, where: str) -> str | None:
    """Settings that become file names (result files, split files, the dataset cache) hold no path segments."""
    value = _optional_str(raw, key, where)
    return None if value is None else safe_component(value, f"task {key}", path=where,
                                                     fix=f"write a {key!r} without '/', '\\' or '..'")
