"""The study on the user's documents, stage by stage, each a call of what glotta already does.

shortlist (language leaderboard from MTEB results) -> benchmark (``rag build``, dev / test split
by document) -> choose (candidates on the custom benchmark and the protected general tasks) ->
data (triplets from the documents that hold no dev or test query, mined by a model other than
the one adapted, leakage-checked) -> trim (optional: ``glotta trim`` on the training documents)
-> tune (on the dev split under the forgetting constraint) -> merge (the sweep) -> verdict (base
vs adapted on the held-out test split and the protected tasks). The test queries come from the
benchmark's sources (headings by default), the training pairs from another generator
(sentences), so a gain is not the generator learned back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from glotta.adapt.recipe import Recipe
from glotta.adapt.report import save_section, write_adapt_report
from glotta.adapt.stages import Stage, StageContext, StageResult, run_stages
from glotta.analysis.report import Section
from glotta.analysis.tables import TableData
from glotta.data.atomic import write_text_atomic
from glotta.data.languages import iso639_3
from glotta.errors import GlottaError

TASK, TRAIN_DOCUMENTS, TRIPLETS = "custom", "train_documents.jsonl", "train.jsonl"
TRIMMED, TUNED, ADAPTED = "trimmed", "tuned", "adapted"
# tune splits its target by query and keeps the rest for its own verdict; here the verdict is the
# benchmark's test split (other documents), so nearly all dev queries go to the trials
TUNE_DEV_SHARE = 0.95
METRIC = "ndcg_at_10"


@dataclass(frozen=True)
class AdaptResult:
    stages: list[StageResult]
    report: Path
    verdict: dict


def adapt(recipe: Recipe, say: Callable[[str], None] = lambda _: None, progress=None) -> AdaptResult:
    """Run (or resume) every stage of ``recipe`` and write ``report.html`` / ``report.md``."""
    out = recipe.path(recipe.output)
    study = _Study(recipe, progress, say)
    stages = study.stages()
    study.check_tasks()  # before any stage: a bad protected or constraint task is refused now, not an hour in
    results = run_stages(stages, out, say)
    overview = Section("Stages", [
        f"language {recipe.language}; documents: {', '.join(recipe.documents)}; candidates: "
        f"{', '.join(recipe.candidates)} (+ bm25); protected: {', '.join(study.protect)}",
        f"query sources: test and dev queries from {', '.join(recipe.benchmark.sources)}; training pairs from "
        f"'{recipe.data.pairs}' pairs of the other documents, negatives mined by {recipe.data.miner}"],
        [TableData("wall time per stage (of the run that made it)", ["stage", "seconds", "this run"],
                   [[r.name, f"{r.wall_s:.0f}", "skipped" if r.skipped else "ran"] for r in results], {1})])
    html, _ = write_adapt_report([r.folder for r in results], overview, out)
    return AdaptResult(results, html, results[-1].summary)


class _Study:
    def __init__(self, recipe: Recipe, progress, say):
        self.recipe, self.progress, self.say = recipe, progress, say
        self.language = iso639_3(recipe.language)
        self.protect = list(recipe.protect) or _default_protected(self.language)

    # the stages, in order ---------------------------------------------------------------------------
    def stages(self) -> list[Stage]:
        r = self.recipe
        mteb = self._mteb_results()
        candidates = [r.model(c) for c in r.candidates]
        protected = [self._protected(p) for p in self.protect]
        local = tuple(Path(c) for c in candidates if Path(c).is_dir())
        trimming = r.trim.size is not None
        return [
            Stage("shortlist", {"language": self.language, "shortlist": r.shortlist}, (mteb,) if mteb else (), (),
                  self.shortlist),
            Stage("benchmark", {"language": self.language, "seed": r.seed, **asdict(r.benchmark)},
                  tuple(r.path(d) for d in r.documents), (), self.benchmark),
            Stage("choose", {"candidates": candidates, "adapt": r.adapt and r.model(r.adapt), "protect": protected},
                  local + tuple(Path(p) for p in protected if Path(p).exists()), ("shortlist", "benchmark"),
                  self.choose),
            Stage("data", {"seed": r.seed, **asdict(r.data)}, tuple(r.path(g) for g in r.data.general),
                  ("benchmark", "choose"), self.data),
            *([Stage("trim", asdict(r.trim), tuple(r.path(k) for k in r.trim.keep), ("benchmark", "choose"),
                     self.trim)] if trimming else []),
            Stage("tune", {"seed": r.seed, "device": r.device, "constraint": self._constraint_task(),
                           **{k: v for k, v in asdict(r.budget).items() if k != "merge"}},
                  (r.path(r.budget.space),) if r.budget.space != "default" else (),
                  ("benchmark", "choose", "data", *(["trim"] if trimming else [])), self.tune),
            Stage("merge", {"merge": r.budget.merge, "max_general_drop": r.budget.max_general_drop}, (),
                  ("benchmark", "choose", "tune"), self.merge),
            Stage("verdict", {"max_general_drop": r.budget.max_general_drop}, (), ("benchmark", "choose", "merge"),
                  self.verdict),
        ]

    def check_tasks(self) -> None:
        from glotta.api import collect_tasks
        from glotta.training.dev_evaluation import load_retrieval_task

        collect_tasks([self._protected(p) for p in self.protect])
        load_retrieval_task(Path(self._constraint_task()), "budget.constraint_task")

    def shortlist(self, ctx: StageContext) -> dict:
        from glotta.analysis.leaderboard import build_leaderboard
        from glotta.analysis.results_reader import load_results
        from glotta.analysis.sections import leaderboard_section

        folder = self._mteb_results()
        if folder is None:
            if self.recipe.shortlist:
                raise GlottaError("shortlist needs MTEB results, and none were found",
                                  fix="set mteb_results: in the recipe (a clone of embeddings-benchmark/results)")
            save_section(Section("Language leaderboard", ["no MTEB results given: the language view is left out"]),
                         ctx.work)
            return {"models": []}
        loaded = load_results([folder])
        board = build_leaderboard(loaded, self.language, task_types={"Retrieval"}, metric=METRIC)
        section = leaderboard_section(board, loaded, METRIC, ctx.work)
        models = [row.model for row in board.rows if row.rank_language is not None][: self.recipe.shortlist]
        if models:
            section.text.append(f"shortlisted for the custom benchmark: {', '.join(models)}")
        save_section(section, ctx.work)
        return {"models": models}

    def benchmark(self, ctx: StageContext) -> dict:
        from glotta.rag.build import DEFAULT_TOKENIZER, BuildSettings, build_benchmark
        from glotta.rag.ingest import ingest
        from glotta.rag.queries import Sampling

        r, b = self.recipe, self.recipe.benchmark
        paths = [r.path(d) for d in r.documents]
        settings = BuildSettings(self.language, f"{Path(r.output).name}-documents", b.sources,
                                 b.tokenizer or DEFAULT_TOKENIZER, b.chunk_tokens,
                                 sampling=Sampling(b.queries, b.per_document, seed=r.seed), dev_share=b.dev_share,
                                 max_documents=b.max_documents)
        read = ingest(paths)
        manifest = build_benchmark(paths, ctx.work / TASK, settings, overwrite=True, say=self.say, read=read)
        held = {d for ids in manifest["documents by split"].values() for d in ids}
        training = [d for d in read.documents if d.id not in held]
        lines = [json.dumps({"id": d.id, "title": d.title, "text": d.text}, ensure_ascii=False) for d in training]
        write_text_atomic(ctx.work / TRAIN_DOCUMENTS, "\n".join(lines) + "\n")
        counts = manifest["counts"]
        rows = [[name, str(n)] for name, n in counts["queries"].items()]
        save_section(Section("The benchmark from your documents (glotta rag build)", [
            f"{counts['documents']:,} documents, {counts['chunks']:,} chunks; split by document: "
            f"{len(manifest['documents by split'].get('dev', []))} documents hold dev queries (tuning), "
            f"{len(manifest['documents by split'].get('test', []))} test queries (the verdict); the "
            f"{len(training):,} documents holding neither are the only ones training pairs come from"],
            [TableData("queries by split and source", ["split and source", "queries"], rows, {1})]), ctx.work)
        return {"queries": counts["queries"], "held documents": len(held), "training documents": len(training)}

    def choose(self, ctx: StageContext) -> dict:
        from glotta.analysis.tables import ScoredEntry, main_score_table, paired_tests_tables, study_table
        from glotta.training.saturation import DEFAULT_THRESHOLD, Advice

        r = self.recipe
        models = [r.model(c) for c in r.candidates] + ctx.summaries["shortlist"]["models"] + ["bm25"]
        task = ctx.done["benchmark"] / TASK
        by_split = {split: self._evaluate(models, [str(task)], ctx.work / f"results-{split}", split=split)
                    for split in ("dev", "test")}
        dense = [m for m in models if m != "bm25"]
        general = self._evaluate(dense, [self._protected(p) for p in self.protect], ctx.work / "results-general")
        dev = {o.model: o.main_score for o in by_split["dev"].outcomes}
        names = dict(zip(models, (o.model for o in by_split["dev"].outcomes), strict=True))
        chosen = r.model(r.adapt) if r.adapt else max(dense, key=lambda m: dev[names[m]])
        advice = Advice(names[chosen], f"{task.name} (dev)", METRIC, dev[names[chosen]], DEFAULT_THRESHOLD)
        scored = [ScoredEntry(f"{o.record().task} [test]", o.task.type.value, o.model, o.scores)
                  for o in by_split["test"].outcomes]
        tables = [t for t in [study_table(scored), *paired_tests_tables(scored),
                              main_score_table(general.records())] if t is not None]
        why = "named in the recipe" if r.adapt else "the best dense candidate on the dev split"
        save_section(Section("Candidates on your documents and on the protected tasks", [
            f"chosen to adapt: {names[chosen]} ({why}); the test split decides nothing until the verdict",
            *advice.lines()], tables), ctx.work)
        return {"adapt": chosen, "adapt_name": names[chosen], "dev": dev,
                "test": {o.model: o.main_score for o in by_split["test"].outcomes}}

    def data(self, ctx: StageContext) -> dict:
        from glotta.analysis.tables import triplet_stats_table
        from glotta.analysis.triplet_stats import triplet_statistics
        from glotta.data.pairs import PairSettings, normalise
        from glotta.training.miners import make_miner
        from glotta.training.mining import MiningSettings
        from glotta.training.triplets import BuildSettings, build_triplets

        r, d = self.recipe, self.recipe.data  # a miner that may be the adapted model: refused by the recipe
        miner = make_miner(r.model(d.miner), self.language, self._options)
        settings = BuildSettings(PairSettings(d.pairs, pairs_per_document=d.pairs_per_document),
                                 MiningSettings(num_negatives=d.num_negatives, range_max=d.range_max,
                                                random_negatives=d.random_negatives),
                                 miner.name, self.language, r.seed, max_documents=d.max_documents)
        built = build_triplets([ctx.done["benchmark"] / TRAIN_DOCUMENTS], ctx.work / "triplets", settings,
                               miner, self.progress)
        queries = ctx.done["benchmark"] / TASK / "queries.jsonl"
        asked = {normalise(json.loads(line)["text"]) for line in queries.read_text(encoding="utf-8").splitlines()}
        rows = (json.loads(line) for line in
                (ctx.work / "triplets" / "triplets.jsonl").read_text(encoding="utf-8").splitlines())
        kept, leaked = [], 0
        for row in rows:
            if normalise(row["query"]) in asked:  # a benchmark query asked in training: left out
                leaked += 1
            else:
                kept.append(json.dumps(row, ensure_ascii=False))
        if not kept:
            raise GlottaError("no training triplet is left", fix="add documents, or lower benchmark.max_documents")
        write_text_atomic(ctx.work / TRIPLETS, "\n".join(kept) + "\n")
        stats = triplet_statistics(ctx.work / TRIPLETS)
        save_section(Section("Training triplets (Table 1)", [
            f"{len(kept):,} triplet rows from '{d.pairs}' pairs of the documents outside dev and test, negatives mined "
            f"by {d.miner}; {leaked} rows whose query is also a benchmark query were left out"],
            [triplet_stats_table(stats, "triplets used for tuning")]), ctx.work)
        return {"rows": len(kept), "left out (benchmark query)": leaked,
                "shards reused": built.get("shards reused", 0)}

    def trim(self, ctx: StageContext) -> dict:
        from glotta.trimming.tables import coverage_table
        from glotta.trimming.trim import TrimSettings, trim_model

        t = self.recipe.trim
        settings = TrimSettings(ctx.summaries["choose"]["adapt"], [ctx.done["benchmark"] / TRAIN_DOCUMENTS],
                                self.language, t.size, ctx.work / TRIMMED, t.min_count,
                                [self.recipe.path(k) for k in t.keep], overwrite=True,
                                word_frequencies=list(t.word_frequencies))
        report = trim_model(settings, self.progress).report
        save_section(Section("Vocabulary trim (glotta trim)", [
            "counted on the training documents" + (f" (always kept: the tokens of {', '.join(t.keep)})" if t.keep
                                                   else "") + "; tuning starts from the trimmed model, the "
            "verdict compares against the untrimmed base", *report["warnings"]], [coverage_table(report)]), ctx.work)
        return {"vocabulary": report["vocabulary"]["trimmed"], "parameters ratio": report["parameters"]["ratio"]}

    def tune(self, ctx: StageContext) -> dict:
        from glotta.tuning.results import export, trial_table
        from glotta.tuning.results import figures as tune_figures
        from glotta.tuning.study import chosen, load_study, open_storage, run

        settings = self._tune_settings(ctx)
        tune = ctx.work / "study"
        run(settings, tune, None, "adapt", 1)  # Optuna's journal in the work folder: a killed run resumes
        study = load_study(settings, tune, open_storage(tune, None), "adapt")
        best = chosen(study, 1)
        if best:
            export(study, 1, ctx.work / TUNED, overwrite=True)
        b = self.recipe.budget
        text = [f"glotta tune on the dev split of the custom benchmark ({b.trials} trials, steps x {b.steps_scale:g}, "
                f"space {b.space}); constraint: at most {b.max_general_drop} points lost on "
                f"{Path(settings.general_task).name}",
                f"chosen: trial {best[0].number}" if best else "no trial kept the constraint: nothing to merge"]
        save_section(Section("Tuning (glotta tune)", text, [trial_table(study)],
                             tune_figures(study, ctx.work / "figures")), ctx.work)
        return {"trial": best[0].number if best else None}

    def merge(self, ctx: StageContext) -> dict:
        from glotta.training.merging import load_pair, write_merge

        if ctx.summaries["tune"]["trial"] is None:
            save_section(Section("Merge sweep", ["no tuned model: nothing to merge"]), ctx.work)
            return {"model": None}
        base, tuned = self._start(ctx), ctx.done["tune"] / TUNED
        sweep = self._sweep(base, tuned, ctx.done["benchmark"] / TASK, self._constraint_task(), ctx.work)
        best = _best_alpha(sweep.rows, self.recipe.budget.max_general_drop)
        if best["alpha"] < 1:
            write_merge(load_pair(base, str(tuned)), best["alpha"], ctx.work / ADAPTED)
        text = [f"the adapted model: the tuned one merged at alpha {best['alpha']:g}, the best dev score whose "
                f"general drop is within {self.recipe.budget.max_general_drop} points"]
        save_section(Section("Merge sweep", text, [sweep.table], [f for f in sweep.figures if f.suffix == ".png"]),
                     ctx.work)
        return {"alpha": best["alpha"], "model": "merge/" + ADAPTED if best["alpha"] < 1 else "tune/" + TUNED,
                "sweep": [{k: v for k, v in row.items() if k != "model"} for row in sweep.rows]}

    def _tune_settings(self, ctx: StageContext):
        from glotta.tuning.settings import TuneSettings
        from glotta.tuning.space import default_space, load_space

        r, b = self.recipe, self.recipe.budget
        space = (default_space(b.steps_scale, bool(r.data.general)) if b.space == "default"
                 else load_space(r.path(b.space), b.steps_scale))
        return TuneSettings(
            model=self._start(ctx), data=(str(ctx.done["data"] / TRIPLETS),),
            target_task=str(ctx.done["benchmark"] / TASK), target_split="dev", general_task=self._constraint_task(),
            space=space, general=tuple(str(r.path(g)) for g in r.data.general), max_general_drop=b.max_general_drop,
            eval_queries=b.eval_queries, eval_steps=b.eval_steps, batch_size=b.batch_size,
            max_seq_length=b.max_seq_length, steps_scale=b.steps_scale, seed=r.seed, device=r.device,
            trials=b.trials, presample=True, dev_share=_tune_dev_share(ctx.summaries["benchmark"]["queries"]))

    def verdict(self, ctx: StageContext) -> dict:
        from glotta.evaluation.comparison import compare
        from glotta.evaluation.significance import paired_test, stored_per_query

        limit = self.recipe.budget.max_general_drop
        base, adapted = ctx.summaries["choose"]["adapt"], ctx.summaries["merge"]["model"]
        if adapted is None:
            text = ("keep the base: no trial of the study kept the general drop within the limit "
                    "(see the trial table)")
            save_section(Section("Verdict", [text]), ctx.work)
            return {"use_adapted": False, "text": text}
        model = str(ctx.done["merge"].parent / adapted)
        task = self._load(str(ctx.done["benchmark"] / TASK), "test")
        protected = [(p, self._load(self._protected(p))) for p in self.protect]
        options = self._options()
        result = compare(base, model, [("custom test", task), *protected], ctx.work / "results", options, False,
                         limit, ctx.work, self.progress)
        custom = result.summaries[0]
        general = {s.benchmark: round(s.delta, 3) for s in result.summaries[1:]}
        before, after = (stored_per_query(outcomes[0].scores) for outcomes in result.outcomes["custom test"])
        difference, p_value = paired_test(after, before)
        wins = custom.delta > 0 and difference.low > 0
        kept = all(-delta <= limit for delta in general.values())
        verdict = "use the adapted model" if wins and kept else "keep the base"
        why = (f"custom test nDCG@10 {100 * custom.base:.2f} -> {100 * custom.tuned:.2f} ({custom.delta:+.2f} points, "
               f"95% CI of the per-query difference [{difference.low:+.4f}, {difference.high:+.4f}], p "
               f"{p_value:.3g}); protected mean main score change (points): "
               + ", ".join(f"{k} {v:+.2f}" for k, v in general.items()) + f" (limit -{limit})")
        save_section(Section("Verdict", [f"{verdict}: {why}"], result.tables,
                             [f for f in result.figures if f.suffix == ".png"]), ctx.work)
        return {"use_adapted": verdict == "use the adapted model", "text": f"{verdict}: {why}",
                "custom_test": {"base": custom.base, "adapted": custom.tuned, "points": round(custom.delta, 3)},
                "protected_points": general, "model": adapted}

    # helpers --------------------------------------------------------------------------------------
    def _start(self, ctx: StageContext) -> str:
        """The model tuning starts from and merges back into: the trimmed one when there is a trim stage."""
        return str(ctx.done["trim"] / TRIMMED) if "trim" in ctx.done else ctx.summaries["choose"]["adapt"]

    def _mteb_results(self) -> Path | None:
        from glotta.config import resolve_data_root

        if self.recipe.mteb_results:
            path = self.recipe.path(self.recipe.mteb_results)
            if not path.is_dir():
                raise GlottaError("mteb_results folder not found", path=path, fix="check the recipe's mteb_results")
            return path
        root = resolve_data_root()
        return root / "mteb-results" if root is not None and (root / "mteb-results").is_dir() else None

    def _protected(self, entry: str) -> str:
        """A benchmark name stays a name; a task folder or benchmark file becomes its absolute path."""
        from glotta.data.benchmarks import shipped_benchmarks

        return entry if entry in shipped_benchmarks() else str(self.recipe.path(entry))

    def _constraint_task(self) -> str:
        if self.recipe.budget.constraint_task:
            return str(self.recipe.path(self.recipe.budget.constraint_task))
        from glotta.data.benchmarks import load_benchmark, shipped_benchmarks

        if self.language in shipped_benchmarks():
            for spec in load_benchmark(self.language).specs:
                if spec.path is not None and spec.path.name.startswith("retrieval_"):
                    return str(spec.path)
        raise GlottaError(f"no retrieval task of {self.language} to watch for forgetting while tuning",
                          fix="set budget.constraint_task: to a general retrieval task folder")

    def _options(self):
        from glotta.api import encoder_options

        return encoder_options(device=self.recipe.device, cache=self._cache())

    def _cache(self) -> bool | Path:
        return True if self.recipe.cache is None else self.recipe.path(self.recipe.cache)

    def _load(self, entry: str, split: str | None = None) -> list:
        from glotta.api import collect_tasks

        return collect_tasks([entry], split=split)

    def _evaluate(self, models: list[str], tasks: list[str], out: Path, split: str | None = None):
        import glotta

        return glotta.evaluate(models, tasks, out, split=split, device=self.recipe.device,
                               cache=self._cache(),
                               progress=self.progress)

    def _sweep(self, base: str, tuned: Path, task: Path, constraint: str, work: Path):
        from glotta.evaluation.comparison import score_sweep
        from glotta.training.merging import load_pair, write_merge

        pair = load_pair(base, str(tuned))
        models = {0.0: base}
        for alpha in self.recipe.budget.merge:
            folder = work / "sweep" / f"alpha-{alpha:g}"
            if not folder.is_dir():  # merged by a killed run already
                write_merge(pair, alpha, folder)
            models[alpha] = str(folder)
        models[1.0] = str(tuned)
        return score_sweep(models, self._load(str(task), "dev"), self._load(constraint), work / "sweep", False,
                           self._options(), self.progress)



def _tune_dev_share(queries: dict[str, int]) -> float:
    """TUNE_DEV_SHARE of the dev queries for the trials, leaving tune at least one for its own split."""
    dev = sum(n for name, n in queries.items() if name.startswith("dev "))
    if dev < 2:
        raise GlottaError(f"the benchmark's dev split has {dev} quer{'y' if dev == 1 else 'ies'}: too few to tune on",
                          fix="raise benchmark.queries or benchmark.max_documents (more documents hold queries)")
    return min(TUNE_DEV_SHARE, (dev - 1) / dev)


def _best_alpha(rows: list[dict], limit: float) -> dict:
    """The merge weight with the best target (dev) score among those within the general limit; alpha 0
    (the base) is not a candidate: the sweep chooses how much of the tuned model to keep."""
    base = rows[0]
    allowed = [row for row in rows[1:] if 100 * (base["general"] - row["general"]) <= limit] or rows[1:]
    return max(allowed, key=lambda row: (row["target"], row["alpha"]))


def _default_protected(language: str) -> list[str]:
    from glotta.data.benchmarks import shipped_benchmarks

    return [name for name in (language, "eng") if name in shipped_benchmarks()]
