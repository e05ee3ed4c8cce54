"""Custom mteb tasks over the shared data, written as a user would write their own mteb task.

Each class is a subclass of one of mteb's abstract tasks with a TaskMetadata and a load_data()
that reads local files into the structure mteb's evaluate() expects. The data is cut to a few
hundred rows so mteb and glotta can both score it quickly on a CPU.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

from datasets import Dataset, DatasetDict
from mteb.abstasks import (
    AbsTaskBitextMining,
    AbsTaskClassification,
    AbsTaskClustering,
    AbsTaskPairClassification,
    AbsTaskRetrieval,
    AbsTaskSTS,
)
from mteb.abstasks.task_metadata import TaskMetadata

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tasks"
NLD, ITA = ["nld-Latn"], ["ita-Latn"]


def read_jsonl(path: Path, rows: int | None = None) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines[:rows] if line.strip()]


def metadata(name: str, task_type: str, main_score: str, eval_langs, **extra) -> TaskMetadata:
    return TaskMetadata(
        name=name,
        description=f"{name}: shared glotta data, cut for a quick parity test.",
        reference="https://example.org/glotta-shared-data",
        dataset={"path": f"local/{name}", "revision": "local-v1"},
        type=task_type,
        category="t2t",
        modalities=["text"],
        eval_splits=["test"],
        eval_langs=eval_langs,
        main_score=main_score,
        license="cc-by-sa-4.0",
        **extra,
    )


class LocalSTS(AbsTaskSTS):
    """STS-B nl and it (0-5), 120 pairs each, as two subsets as STSBenchmarkMultilingualSTS keeps them."""

    metadata = metadata("LocalSTSBenchmark", "STS", "cosine_spearman", {"nl": NLD, "it": ITA})
    min_score, max_score = 0, 5
    rows = 120

    def load_data(self, num_proc=None, **kwargs):
        if self.data_loaded:
            return
        folders = {"nl": "nl/sts_stsb_nl", "it": "it/sts_stsb_it"}
        self.dataset = {
            subset: DatasetDict({"test": Dataset.from_list(read_jsonl(DATA / folders[subset] / "test.jsonl",
                                                                      self.rows))})
            for subset in self.hf_subsets
        }
        self.data_loaded = True


class LocalSICKSTS(AbsTaskSTS):
    """SICK-NL relatedness (gold 1-5), 200 pairs: MTEB's SICK-NL-STS data, one subset."""

    metadata = metadata("LocalSICKNLSTS", "STS", "cosine_spearman", NLD)
    min_score, max_score = 1, 5

    def load_data(self, num_proc=None, **kwargs):
        if self.data_loaded:
            return
        rows = read_jsonl(DATA / "nl/sts_sick_nl/test.jsonl", 200)
        self.dataset = DatasetDict({"test": Dataset.from_list(rows)})
        self.data_loaded = True


def _retrieval_split(queries_wanted: int, distractors: int, candidates: int | None = None,
                     queries_as_documents: bool = False) -> dict:
    folder = DATA / "nl/retrieval_xquad_nl"
    queries = read_jsonl(folder / "queries.jsonl")[:queries_wanted]
    chosen = {q["_id"] for q in queries}
    qrels: dict[str, dict[str, int]] = {}
    for line in (folder / "qrels/test.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        query_id, doc_id, score = line.split("\t")
        if query_id in chosen:
            qrels.setdefault(query_id, {})[doc_id] = int(score)
    relevant = {d for docs in qrels.values() for d in docs}
    corpus = read_jsonl(folder / "corpus.jsonl")
    others = [d for d in corpus if d["_id"] not in relevant][:distractors]
    documents = [d for d in corpus if d["_id"] in relevant] + others
    if queries_as_documents:  # as in ArguAna, where every query is also a document of the corpus
        documents += [{"_id": q["_id"], "title": "", "text": q["text"]} for q in queries]
    split = {
        "corpus": Dataset.from_list([{"id": d["_id"], "title": d.get("title") or "", "text": d["text"]}
                                     for d in documents]),
        "queries": Dataset.from_list([{"id": q["_id"], "text": q["text"]} for q in queries]),
        "relevant_docs": qrels,
        "top_ranked": None,
    }
    if candidates is not None:  # each query's relevant documents among the first distractors
        split["top_ranked"] = {q: [*qrels[q], *(d["_id"] for d in others[:candidates])] for q in qrels}
    return split


class LocalRetrieval(AbsTaskRetrieval):
    """XQuAD-nl: 80 questions over their paragraphs and 50 distractor paragraphs."""

    metadata = metadata("LocalXQuADNLRetrieval", "Retrieval", "ndcg_at_10", NLD)
    cut: ClassVar[dict] = {}  # how the variants below change the cut (_retrieval_split's options)

    def load_data(self, num_proc=None, **kwargs):
        if self.data_loaded:
            return
        self.dataset = {"default": {"test": _retrieval_split(80, 50, **self.cut)}}
        self.data_loaded = True


class LocalSelfRetrieval(LocalRetrieval):
    """The same cut with each question also in the corpus under its own id: ignore_identical_ids
    keeps a query from finding itself, as mteb's ArguAna tasks set it."""

    metadata = metadata("LocalXQuADNLSelfRetrieval", "Retrieval", "ndcg_at_10", NLD)
    ignore_identical_ids = True
    cut: ClassVar[dict] = {"queries_as_documents": True}


class LocalReranking(LocalRetrieval):
    """The same cut as reranking: each question's candidates are its paragraph and 20 others."""

    metadata = metadata("LocalXQuADNLReranking", "Reranking", "map_at_1000", NLD)
    cut: ClassVar[dict] = {"candidates": 20}


class LocalPairClassification(AbsTaskPairClassification):
    """SICK-NL entailment (1) vs contradiction (0), as MTEB's SICKNLPairClassification keeps them."""

    metadata = metadata("LocalSICKNLPairClassification", "PairClassification", "max_ap", NLD)

    def load_data(self, num_proc=None, **kwargs):
        if self.data_loaded:
            return
        keep = {"entailment": 1, "contradiction": 0}
        rows = [r for r in read_jsonl(DATA / "nl/pairs_sick_nl_nli/test.jsonl", 500) if r["label"] in keep]
        # mteb's v1 layout: one row whose cells are the whole columns
        self.dataset = DatasetDict({"test": Dataset.from_list([{
            "sentence1": [r["sentence1"] for r in rows],
            "sentence2": [r["sentence2"] for r in rows],
            "labels": [keep[r["label"]] for r in rows],
        }])})
        self.data_loaded = True


class LocalClassification(AbsTaskClassification):
    """SIB-200 nl topics: 250 training texts, 120 test texts, 16 samples per label, 5 experiments."""

    metadata = metadata("LocalSIB200NLClassification", "Classification", "accuracy", NLD)
    samples_per_label = 16
    n_experiments = 5
    left_out: str | None = None  # a label kept out of the training split

    def load_data(self, num_proc=None, **kwargs):
        if self.data_loaded:
            return
        folder = DATA / "nl/classification_sib200_nl"
        train = [r for r in read_jsonl(folder / "train.jsonl", 250) if r["label"] != self.left_out]
        self.dataset = DatasetDict({
            "train": Dataset.from_list(train),
            "test": Dataset.from_list(read_jsonl(folder / "test.jsonl", 120)),
        })
        self.data_loaded = True


class LocalUnseenLabelClassification(LocalClassification):
    """The same cut without 'politics' in training, so the test split holds a label never trained
    on; scored by macro F1, as DutchColaClassification and other MTEB(nld) tasks are."""

    metadata = metadata("LocalSIB200NLUnseenLabelClassification", "Classification", "f1", NLD)
    left_out = "politics"


class LocalClustering(AbsTaskClustering):
    """SIB-200 nl topics as clusters: the 250 training texts above, all embedded, 1,000 drawn per bootstrap run."""

    metadata = metadata("LocalSIB200NLClustering", "Clustering", "v_measure", NLD)
    max_fraction_of_documents_to_embed = None
    max_document_to_embed = 250
    max_documents_per_cluster = 1000
    n_clusters = 5

    def load_data(self, num_proc=None, **kwargs):
        if self.data_loaded:
            return
        rows = read_jsonl(DATA / "nl/classification_sib200_nl/train.jsonl", 250)
        self.dataset = DatasetDict({"test": Dataset.from_dict({
            "sentences": [r["text"] for r in rows], "labels": [r["label"] for r in rows]})})
        self.data_loaded = True


class LocalUnsampledClustering(LocalClustering):
    """The same texts with no maximum of documents to embed: mteb embeds all of them, in order."""

    metadata = metadata("LocalSIB200NLUnsampledClustering", "Clustering", "v_measure", NLD)
    max_document_to_embed = None


class LocalBitext(AbsTaskBitextMining):
    """Tatoeba nld-eng, 150 pairs: each Dutch sentence looks for its English translation (as in MTEB)."""

    metadata = metadata("LocalTatoebaNL", "BitextMining", "f1", {"nld-eng": ["nld-Latn", "eng-Latn"]})

    def load_data(self, num_proc=None, **kwargs):
        if self.data_loaded:
            return
        rows = read_jsonl(DATA / "nl/bitext_tatoeba_en_nl/test.jsonl", 150)
        self.dataset = {"nld-eng": DatasetDict({"test": Dataset.from_list(
            [{"sentence1": r["sentence2"], "sentence2": r["sentence1"]} for r in rows])})}
        self.data_loaded = True


class LocalFloresParallel(AbsTaskBitextMining):
    """FLORES en-nl, 100 sentences, as FloresBitextMining keeps it: one dataset with a column per
    language, each subset a pair of columns (English looks for Dutch here)."""

    metadata = metadata("LocalFloresParallel", "BitextMining", "f1",
                        {"eng_Latn-nld_Latn": ["eng-Latn", "nld-Latn"]})
    parallel_subsets = True

    def load_data(self, num_proc=None, **kwargs):
        if self.data_loaded:
            return
        rows = read_jsonl(DATA / "nl/bitext_flores_en_nl/test.jsonl", 100)
        self.dataset = DatasetDict({"test": Dataset.from_dict({
            "eng_Latn": [r["sentence1"] for r in rows], "nld_Latn": [r["sentence2"] for r in rows]})})
        self.data_loaded = True


ALL = [LocalSTS, LocalSICKSTS, LocalRetrieval, LocalSelfRetrieval, LocalReranking, LocalPairClassification,
       LocalClassification, LocalUnseenLabelClassification, LocalClustering, LocalUnsampledClustering, LocalBitext,
       LocalFloresParallel]
