"""Throughput of document ingestion and chunking (``glotta.rag``) on real data, against bare floors.

All in one run, on the same machine state; timings are ratios within the run (machines here are
shared and noisy), and each stage alternates its two sides (floor, glotta, floor, glotta, ...).

1. Corpus ingestion: the first N documents of the Dutch statutes
   (``shared/data/corpora/nl/wetten_laws_markdown/docs.jsonl``, copied to a temp folder as
   ``docs.jsonl``) read by ``ingest`` versus ``json.loads`` of every line (the floor):
   documents/s, MiB/s, and ingest/plain throughput per round and its median.
2. PDF ingestion: K PDFs written with fpdf2 (core font, latin-1 safe text, a running header and a
   numbered footer on each page) from statute documents, several pages each, read by ``ingest``
   versus pypdf's bare ``page.extract_text()`` over the same files: pages/s, MiB/s, ratio.
3. Chunking: the ingested statute slice cut by ``chunk_documents`` with the tokenizer of
   all-MiniLM-L6-v2 (chunk_tokens 256, overlap 32) versus tokenizing every document once with
   the fast tokenizer (batched): documents/s, chunks/s, tokens/s (the documents' tokens), and the
   share of chunking time spent in ``near_duplicate_groups`` (timed on its own, inside the same
   call).
4. Peak memory: ``ru_maxrss`` of a fresh process (this script with ``--stage``) per stage, before
   the work (imports, data, tokenizer) and after it. Linux carries ``ru_maxrss`` over ``exec`` from
   the forking parent, so the probes run first, while this process is still small (its RSS at
   spawn is recorded), and each child also reports its own ``VmHWM`` (/proc, reset at exec).

    .venv/bin/python benchmarks/rag_ingest_throughput.py [--documents N] [--pdfs K] [--rounds R]

Writes benchmarks/out/rag_ingest_throughput.json (atomically) and prints a table.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATUTES = ROOT.parent / "shared/data/corpora/nl/wetten_laws_markdown/docs.jsonl"
MODEL = "sentence-transformers/all-MiniLM-L6-v2"
HEADER, FOOTER = "Staatscourant van het Koninkrijk der Nederlanden", "Pagina {} van de regeling"
MIB = 1024 * 1024
TOKENIZER_BATCH = 256
# characters outside latin-1 that the statutes use, mapped to what a core PDF font can show
_LATIN1 = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"',
                         "\u201d": '"', "\u2026": "...", "\u2022": "-", "\u00a0": " "})


# ---------------------------------------------------------------------------------------- data


def write_slice(folder: Path, documents: int) -> Path:
    """The first ``documents`` lines of the statutes, as ``folder/docs.jsonl``."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "docs.jsonl"
    with STATUTES.open("rb") as source, target.open("wb") as sink:
        sink.writelines(itertools.islice(source, documents))
    return target


def latin1(text: str) -> str:
    return text.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


def write_pdfs(folder: Path, corpus: Path, count: int, pages: int) -> None:
    """``count`` PDFs, each filled with consecutive statute documents until it has ``pages`` pages."""
    import fpdf

    with corpus.open(encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines if line.strip()]

    class Statute(fpdf.FPDF):
        def header(self):
            self.set_font("Helvetica", size=9)
            self.cell(0, 8, HEADER, new_x="LMARGIN", new_y="NEXT")
            self.set_font("Helvetica", size=11)

        def footer(self):
            self.set_y(-15)
            self.set_font("Helvetica", size=9)
            self.cell(0, 8, FOOTER.format(self.page_no()))

    folder.mkdir(parents=True, exist_ok=True)
    stream = itertools.cycle(r for r in records if len(r["text"]) >= 400)
    for number in range(count):
        pdf = Statute()
        pdf.set_font("Helvetica", size=11)
        first = next(stream)
        pdf.set_title(latin1(first["title"]))
        record = first
        while True:
            pdf.add_page()
            pdf.set_font("Helvetica", style="B", size=11)
            pdf.multi_cell(0, 6, latin1(record["title"]), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", size=11)
            for paragraph in record["text"][:6000].split("\n\n"):
                pdf.multi_cell(0, 6, latin1(paragraph), new_x="LMARGIN", new_y="NEXT")
                pdf.ln(2)
            if pdf.page_no() >= pages:
                break
            record = next(stream)
        pdf.output(str(folder / f"statute-{number:03d}.pdf"))


# ------------------------------------------------------------------------------------ the sides


def plain_jsonl(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(1 for line in stream if line.strip() and json.loads(line))


def ingest_documents(folder: Path):
    from glotta.rag.ingest import ingest

    return ingest([folder]).documents


def plain_pdfs(files: list[Path]) -> int:
    """pypdf alone: every page's ``extract_text()``; returns the number of pages."""
    import pypdf

    pages = 0
    for path in files:
        for page in pypdf.PdfReader(path).pages:
            page.extract_text()
            pages += 1
    return pages


def tokenize_all(texts: list[str], tokenizer) -> int:
    """The floor of chunking: every document tokenized once, in batches; returns the token count."""
    tokens = 0
    for start in range(0, len(texts), TOKENIZER_BATCH):
        encoded = tokenizer(texts[start:start + TOKENIZER_BATCH], add_special_tokens=False)
        tokens += sum(map(len, encoded["input_ids"]))
    return tokens


@contextlib.contextmanager
def timed_near_duplicates(seconds: list[float]):
    """Time ``near_duplicate_groups`` where ``chunk_documents`` calls it (same call, no second run)."""
    from glotta.rag import chunking

    original = chunking.near_duplicate_groups

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            seconds.append(time.perf_counter() - started)

    chunking.near_duplicate_groups = wrapper
    try:
        yield
    finally:
        chunking.near_duplicate_groups = original


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def alternate(rounds: int, floor, glotta) -> list[dict]:
    """Per round: floor then glotta (the floor goes first each round: A B A B)."""
    results = []
    for round_ in range(rounds):
        floor_s, floor_result = timed(floor)
        glotta_s, glotta_result = timed(glotta)
        results.append({"round": round_, "floor_s": floor_s, "glotta_s": glotta_s,
                        "floor_result": floor_result, "glotta_result": glotta_result})
    return results


# ------------------------------------------------------------------------------------ memory


def max_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MIB if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def rss_mib() -> float | None:
    """The current resident set (Linux /proc), or None elsewhere."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB
    except (OSError, ValueError):
        return None


def high_water_mib() -> float | None:
    """This process image's peak RSS (``VmHWM``; unlike ``ru_maxrss`` it starts afresh at exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def stage(name: str, scratch: Path, chunk_tokens: int, overlap: int) -> None:
    """Child process: peak RSS after the set-up (imports, data, tokenizer) and after the stage's work."""
    import pypdf  # noqa: F401  (imported before the baseline in every stage, as in the timed runs)
    import semchunk  # noqa: F401

    from glotta.rag.chunking import chunk_documents, load_tokenizer
    from glotta.rag.ingest import ingest

    if name == "ingest_jsonl":
        before, hwm_before = max_rss_mib(), high_water_mib()
        count = len(ingest([scratch / "corpus"]).documents)
    elif name == "ingest_pdf":
        before, hwm_before = max_rss_mib(), high_water_mib()
        count = len(ingest([scratch / "pdfs"]).documents)
    elif name == "chunk":
        documents = ingest([scratch / "corpus"]).documents
        tokenizer = load_tokenizer(MODEL)
        before, hwm_before = max_rss_mib(), high_water_mib()
        count = len(chunk_documents(documents, tokenizer, chunk_tokens, overlap).chunks)
    else:
        raise SystemExit(f"unknown stage {name!r}")
    hwm = high_water_mib()
    print(json.dumps({"stage": name, "before_mib": round(before, 1), "peak_mib": round(max_rss_mib(), 1),
                      "vmhwm_before_mib": hwm_before and round(hwm_before, 1), "vmhwm_peak_mib": hwm and round(hwm, 1),
                      "items": count}))


def measure_memory(name: str, scratch: Path, chunk_tokens: int, overlap: int) -> dict:
    parent = rss_mib()
    command = [sys.executable, __file__, "--stage", name, "--scratch", str(scratch),
               "--chunk-tokens", str(chunk_tokens), "--overlap", str(overlap)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    return probe | {"growth_mib": round(probe["peak_mib"] - probe["before_mib"], 1),
                    "parent_rss_at_spawn_mib": parent and round(parent, 1)}


# ------------------------------------------------------------------------------------ report


def versions() -> dict:
    out = {}
    for package in ("pypdf", "semchunk", "datasketch", "transformers", "tokenizers", "fpdf2"):
        try:
            out[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            out[package] = None
    return out


def write_atomically(path: Path, report: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(json.dumps(report, indent=2) + "\n")
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def rate(amount: float, seconds: float) -> float:
    return amount / seconds if seconds > 0 else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=3000, help="statute documents to ingest and chunk")
    parser.add_argument("--pdfs", type=int, default=40, help="PDFs to write and ingest")
    parser.add_argument("--pdf-pages", type=int, default=5, help="at least this many pages per PDF")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--chunk-tokens", type=int, default=256)
    parser.add_argument("--overlap", type=int, default=32)
    parser.add_argument("--output", "--out", type=Path, default=Path("benchmarks/out"))
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage == "write_pdfs":  # a child too, so that fpdf never enlarges the process the probes fork from
        write_pdfs(args.scratch / "pdfs", args.scratch / "corpus" / "docs.jsonl", args.pdfs, args.pdf_pages)
        return
    if args.stage:
        stage(args.stage, args.scratch, args.chunk_tokens, args.overlap)
        return
    if not STATUTES.exists():
        raise SystemExit(f"the statutes corpus is not at {STATUTES}")

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as temp:
        scratch = Path(temp)
        corpus = write_slice(scratch / "corpus", args.documents)
        corpus_bytes = corpus.stat().st_size
        writer = [sys.executable, __file__, "--stage", "write_pdfs", "--scratch", str(scratch),
                  "--pdfs", str(args.pdfs), "--pdf-pages", str(args.pdf_pages)]
        generate_s, _ = timed(lambda: subprocess.run(writer, check=True))
        pdf_files = sorted((scratch / "pdfs").glob("*.pdf"))
        pdf_bytes = sum(p.stat().st_size for p in pdf_files)
        print(f"data: {args.documents} statute lines ({corpus_bytes / MIB:.1f} MiB), {len(pdf_files)} PDFs "
              f"({pdf_bytes / MIB:.1f} MiB, written in {generate_s:.1f} s)", flush=True)

        # 4. peak memory, one fresh process per stage: first, while this process is small (see the docstring)
        memory = {name: measure_memory(name, scratch, args.chunk_tokens, args.overlap)
                  for name in ("ingest_jsonl", "ingest_pdf", "chunk")}
        print("4. memory done", flush=True)

        # imported now, so that no timed side pays for a first import
        import datasketch  # noqa: F401
        import pypdf  # noqa: F401
        import scipy.sparse.csgraph  # noqa: F401
        import semchunk  # noqa: F401

        from glotta.rag.chunking import chunk_documents, load_tokenizer

        # 1. corpus ingestion
        jsonl = alternate(args.rounds, lambda: plain_jsonl(corpus), lambda: ingest_documents(scratch / "corpus"))
        documents = jsonl[-1]["glotta_result"]
        jsonl_rounds = [{
            "round": r["round"], "plain_s": round(r["floor_s"], 3), "ingest_s": round(r["glotta_s"], 3),
            "plain_docs_per_s": round(rate(r["floor_result"], r["floor_s"]), 1),
            "ingest_docs_per_s": round(rate(len(r["glotta_result"]), r["glotta_s"]), 1),
            "plain_mib_per_s": round(rate(corpus_bytes / MIB, r["floor_s"]), 2),
            "ingest_mib_per_s": round(rate(corpus_bytes / MIB, r["glotta_s"]), 2),
            "ingest_over_plain": round(r["floor_s"] / r["glotta_s"], 3),
        } for r in jsonl]
        print("1. corpus ingestion done", flush=True)

        # 2. PDF ingestion
        pdf = alternate(args.rounds, lambda: plain_pdfs(pdf_files), lambda: ingest_documents(scratch / "pdfs"))
        pages = pdf[-1]["floor_result"]
        pdf_documents = pdf[-1]["glotta_result"]
        pdf_rounds = [{
            "round": r["round"], "pypdf_s": round(r["floor_s"], 3), "ingest_s": round(r["glotta_s"], 3),
            "pypdf_pages_per_s": round(rate(pages, r["floor_s"]), 1),
            "ingest_pages_per_s": round(rate(pages, r["glotta_s"]), 1),
            "pypdf_mib_per_s": round(rate(pdf_bytes / MIB, r["floor_s"]), 3),
            "ingest_mib_per_s": round(rate(pdf_bytes / MIB, r["glotta_s"]), 3),
            "ingest_over_pypdf": round(r["floor_s"] / r["glotta_s"], 3),
        } for r in pdf]
        print("2. PDF ingestion done", flush=True)

        # 3. chunking
        tokenizer = load_tokenizer(MODEL)
        texts = [d.text for d in documents]
        tokenize_all(texts[:TOKENIZER_BATCH], tokenizer)  # warm-up: the tokenizer's first call
        near_duplicate_s: list[float] = []

        def chunk():
            with timed_near_duplicates(near_duplicate_s):
                return chunk_documents(documents, tokenizer, args.chunk_tokens, args.overlap)

        chunking = alternate(args.rounds, lambda: tokenize_all(texts, tokenizer), chunk)
        if len(near_duplicate_s) != args.rounds:
            raise SystemExit("chunk_documents no longer calls chunking.near_duplicate_groups: update "
                             "timed_near_duplicates")
        document_tokens = chunking[-1]["floor_result"]
        chunked = chunking[-1]["glotta_result"]
        chunk_rounds = [{
            "round": r["round"], "tokenize_s": round(r["floor_s"], 3), "chunk_s": round(r["glotta_s"], 3),
            "near_duplicates_s": round(near, 3), "near_duplicates_share": round(near / r["glotta_s"], 3),
            "tokenize_docs_per_s": round(rate(len(documents), r["floor_s"]), 1),
            "tokenize_tokens_per_s": round(rate(document_tokens, r["floor_s"])),
            "chunk_docs_per_s": round(rate(len(documents), r["glotta_s"]), 1),
            "chunk_chunks_per_s": round(rate(len(r["glotta_result"].chunks), r["glotta_s"]), 1),
            "chunk_tokens_per_s": round(rate(document_tokens, r["glotta_s"])),
            "chunk_over_tokenize": round(r["floor_s"] / r["glotta_s"], 4),
        } for r, near in zip(chunking, near_duplicate_s, strict=True)]
        print("3. chunking done", flush=True)

    def median(rows, key):
        return round(statistics.median(row[key] for row in rows), 4)

    report = {
        "settings": {"documents": args.documents, "pdfs": args.pdfs, "pdf_min_pages": args.pdf_pages,
                     "rounds": args.rounds, "model": MODEL, "chunk_tokens": args.chunk_tokens,
                     "overlap": args.overlap, "tokenizer_batch": TOKENIZER_BATCH,
                     "corpus": str(STATUTES.relative_to(ROOT.parent))},
        "machine": {"cpu_count": os.cpu_count(),
                    "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
                    "python": sys.version.split()[0], "platform": sys.platform},
        "versions": versions(),
        "ratios_note": "glotta throughput / floor throughput (= floor time / glotta time), per round; "
                       "the median over rounds is the headline",
        "ingest_jsonl": {
            "documents_plain": jsonl[-1]["floor_result"], "documents_ingested": len(documents),
            "mib": round(corpus_bytes / MIB, 2), "rounds": jsonl_rounds,
            "median_plain_docs_per_s": median(jsonl_rounds, "plain_docs_per_s"),
            "median_ingest_docs_per_s": median(jsonl_rounds, "ingest_docs_per_s"),
            "median_plain_mib_per_s": median(jsonl_rounds, "plain_mib_per_s"),
            "median_ingest_mib_per_s": median(jsonl_rounds, "ingest_mib_per_s"),
            "median_ingest_over_plain": median(jsonl_rounds, "ingest_over_plain"),
        },
        "ingest_pdf": {
            "files": len(pdf_files), "pages": pages, "documents_ingested": len(pdf_documents),
            "pages_with_text": sum(len(d.pages) for d in pdf_documents), "mib": round(pdf_bytes / MIB, 3),
            "generate_s": round(generate_s, 2), "rounds": pdf_rounds,
            "median_pypdf_pages_per_s": median(pdf_rounds, "pypdf_pages_per_s"),
            "median_ingest_pages_per_s": median(pdf_rounds, "ingest_pages_per_s"),
            "median_pypdf_mib_per_s": median(pdf_rounds, "pypdf_mib_per_s"),
            "median_ingest_mib_per_s": median(pdf_rounds, "ingest_mib_per_s"),
            "median_ingest_over_pypdf": median(pdf_rounds, "ingest_over_pypdf"),
        },
        "chunking": {
            "documents": len(documents), "document_tokens": document_tokens, "chunks": len(chunked.chunks),
            "chunk_tokens_total": sum(c.tokens for c in chunked.chunks), "merged_identical": chunked.merged,
            "near_duplicate_groups": len(chunked.near_duplicates),
            "chunks_in_near_duplicate_groups": sum(map(len, chunked.near_duplicates)), "rounds": chunk_rounds,
            "median_tokenize_tokens_per_s": median(chunk_rounds, "tokenize_tokens_per_s"),
            "median_chunk_docs_per_s": median(chunk_rounds, "chunk_docs_per_s"),
            "median_chunk_chunks_per_s": median(chunk_rounds, "chunk_chunks_per_s"),
            "median_chunk_tokens_per_s": median(chunk_rounds, "chunk_tokens_per_s"),
            "median_near_duplicates_share": median(chunk_rounds, "near_duplicates_share"),
            "median_chunk_over_tokenize": median(chunk_rounds, "chunk_over_tokenize"),
        },
        "peak_rss_mib": memory,
        "total_s": round(time.perf_counter() - started, 1),
    }
    target = args.output / "rag_ingest_throughput.json"
    write_atomically(target, report)
    print_table(report)
    print(f"wrote {target}")


def print_table(report: dict) -> None:
    j, p, c, m = report["ingest_jsonl"], report["ingest_pdf"], report["chunking"], report["peak_rss_mib"]
    rows = [("stage / round", "floor", "glotta", "glotta/floor", "extra")]
    for r in j["rounds"]:
        rows.append((f"statutes jsonl r{r['round']} (docs/s)", f"{r['plain_docs_per_s']:,.0f}",
                     f"{r['ingest_docs_per_s']:,.0f}", f"{r['ingest_over_plain']:.3f}",
                     f"{r['plain_mib_per_s']:.1f} / {r['ingest_mib_per_s']:.1f} MiB/s"))
    for r in p["rounds"]:
        rows.append((f"PDF r{r['round']} (pages/s)", f"{r['pypdf_pages_per_s']:,.1f}",
                     f"{r['ingest_pages_per_s']:,.1f}", f"{r['ingest_over_pypdf']:.3f}",
                     f"{r['pypdf_mib_per_s']:.2f} / {r['ingest_mib_per_s']:.2f} MiB/s"))
    for r in c["rounds"]:
        rows.append((f"chunking r{r['round']} (tokens/s)", f"{r['tokenize_tokens_per_s']:,}",
                     f"{r['chunk_tokens_per_s']:,}", f"{r['chunk_over_tokenize']:.4f}",
                     f"{r['chunk_docs_per_s']:.0f} docs/s, {r['chunk_chunks_per_s']:.0f} chunks/s, "
                     f"near-dup {100 * r['near_duplicates_share']:.0f}%"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for number, row in enumerate(rows):
        print("  ".join(cell.ljust(w) if i in (0, 4) else cell.rjust(w) for i, (cell, w) in
                        enumerate(zip(row, widths, strict=True))))
        if number == 0:
            print("  ".join("-" * w for w in widths))
    print(f"medians: ingest/plain {j['median_ingest_over_plain']:.3f}, ingest/pypdf "
          f"{p['median_ingest_over_pypdf']:.3f}, chunk/tokenize {c['median_chunk_over_tokenize']:.4f}, "
          f"near-duplicate share {100 * c['median_near_duplicates_share']:.1f}%")
    print(f"data: {j['documents_ingested']} documents ({j['mib']} MiB); {p['files']} PDFs, {p['pages']} pages "
          f"({p['mib']} MiB); {c['chunks']} chunks, {c['document_tokens']:,} document tokens")
    print("peak RSS ru_maxrss (MiB, fresh process): " + ", ".join(
        f"{name} {v['peak_mib']:.0f} (set-up {v['before_mib']:.0f}, +{v['growth_mib']:.0f})" for name, v in m.items()))
    high_water = ", ".join(f"{name} {v['vmhwm_peak_mib']}" for name, v in m.items())
    parent = max(v["parent_rss_at_spawn_mib"] or 0 for v in m.values())
    print(f"  (VmHWM, reset at exec: {high_water}; this process's RSS at spawn {parent:.0f} MiB)")


if __name__ == "__main__":
    main()
