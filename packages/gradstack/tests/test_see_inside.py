"""The command's windows into a model: --flow-report, bench --profile, check's flow part."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any


def test_train_flow_report_prints_and_logs_each_evaluation(
    cli: Any, tmp_path: Path, text_file: Path
) -> None:
    args = ("train", "--data", str(text_file), *cli.TINY, "--steps", "20", "--flow-report")
    result = cli.run(*args, "--out", "run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr  # tqdm's bar.write goes to stdout
    # TINY has one block: 2 embeddings + 16 + ln_f (2) + lm_head = 21 parameter tensors
    assert output.count("gradient flow of the last step (clipped):") == 2  # steps 10 and 20
    assert len(re.findall(r"^21/21 parameter tensors have gradients", output, re.M)) == 2
    assert re.search(r"^blocks\.0\.attn\.q_proj\.weight\s+\(16, 16\)\s+yes\s", output, re.M)
    evaluations = [row for row in cli.metrics(tmp_path / "run") if "val_loss" in row]
    assert [row["step"] for row in evaluations] == [10, 20]
    for row in evaluations:
        names = [entry["name"] for entry in row["flow_report"]]
        assert len(names) == 21 and names[0] == "token_embedding.weight"
        assert all(entry["has_grad"] and entry["grad_norm"] > 0 for entry in row["flow_report"])
    logged = [row for row in cli.metrics(tmp_path / "run") if "val_loss" not in row]
    assert logged and all("flow_report" not in row for row in logged)


def test_bench_profile_prints_the_op_table(cli: Any, tmp_path: Path) -> None:
    sizes = ("--layers", "1", "--embed-dim", "16", "--heads", "2", "--context", "8",
             "--batch-size", "4")  # fmt: skip
    args = ("bench", *sizes, "--steps", "2", "--warmup", "1", "--shards", "1", "--profile")
    result = cli.run(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "one more step, profiled by op:" in result.stdout
    table = result.stdout.split("profiled by op:\n", 1)[1]
    assert table.splitlines()[0].split()[:3] == ["name", "kind", "calls"]
    # one block: 4 attention projections + 2 MLP layers + lm_head = 7 linear calls
    assert re.search(r"^linear\s+forward\s+7\s", table, re.M)
    assert re.search(r"^LinearBackward\s+backward\s+7\s", table, re.M)
    assert re.search(r"^recorded: [\d.]+ ms of [\d.]+ ms wall", table, re.M)


def test_check_shows_all_37_gpt_parameters_receive_gradients(cli: Any, tmp_path: Path) -> None:
    result = cli.run("check", "--no-torch", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gradient flow of the seed GPT" in result.stdout
    assert re.search(r"^37/37 parameter tensors have gradients", result.stdout, re.M)
    assert "✅ all 37 GPT parameter tensors receive gradients" in result.stdout
    assert re.search(r"^lm_head\.weight\s+\(20, 16\)\s+yes\s", result.stdout, re.M)


def has_matplotlib() -> bool:
    """Whether the optional plot extra imports here (and so in the command's process)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def test_generate_attention_map_writes_the_heat_map_grid(
    cli: Any, tmp_path: Path, trained_run: Path
) -> None:
    args = ("generate", "--checkpoint", str(trained_run), "--prompt", "def f", "--seed", "1")
    result = cli.run(*args, "--max-new-tokens", "5", "--attention-map", "att.png", cwd=tmp_path)
    if not has_matplotlib():  # without the plot extra: it says so
        cli.assert_error(
            result, "generate", '--attention-map needs matplotlib: pip install "gradstack[plot]"'
        )
        assert not (tmp_path / "att.png").exists() and result.stdout == ""
        return
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "att.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # TINY: one layer of two heads; "def f" is five character tokens
    assert result.stderr.strip() == (
        "gradstack generate: attention maps (1 layers x 2 heads over 5 prompt tokens) "
        "written to att.png"
    )
    assert result.stdout.startswith("def f") and len(result.stdout) == len("def f") + 5 + 1


def test_generate_attention_map_wants_a_picture_file(
    cli: Any, tmp_path: Path, trained_run: Path
) -> None:
    args = ("generate", "--checkpoint", str(trained_run), "--attention-map", "att.txt")
    result = cli.run(*args, cwd=tmp_path)
    cli.assert_error(result, "generate", "--attention-map att.txt: name a .png, .svg or .pdf file")
    assert not (tmp_path / "att.txt").exists()
