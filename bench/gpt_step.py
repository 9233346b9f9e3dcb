"""GPT training-step benchmark: gradstack vs hand-written NumPy vs PyTorch (CPU).

Each framework lives in its own process (so thread pools never fight) with its model
built once, and the frameworks take turns in short slices of a few steps, the one going
first rotating every round (``interleave.py``): a slow phase of a shared machine then
slows all three alike. The report gives medians over every timed step and the ratios
gradstack / NumPy and gradstack / torch measured in the same run, plus the spread of the
per-round ratios. Not a test: run it by hand.

    python bench/gpt_step.py                      # configs A, B, C
    python bench/gpt_step.py --configs B --rounds 20 --threads 2 --markdown out.md
    python bench/gpt_step.py --frameworks gradstack,references,torch   # what kernels buy
    python bench/gpt_step.py --sweep --frameworks gradstack,torch --rounds 4
    python bench/gpt_step.py --loop train          # the step `gradstack train` runs

``references`` is gradstack with ``GRADSTACK_KERNELS=0``: every op runs its textbook
reference and generation runs through the modules, as a student's copy does.
``--loop plain`` (the default) times the loop a PyTorch user writes (``zero_grad``,
``cross_entropy(model(x), y).backward()``, ``step``) with the library's defaults;
``--loop train`` times ``gradstack.cli.training_step.training_step`` with its shard count.
``--sweep`` times batch 1-64 at widths 64, 128 and 256 (see ``SWEEP``) and reports the
ratio to torch at each point.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from interleave import Worker, interleave, serve

HERE = Path(__file__).resolve().parent
CONFIGS = {  # vocab, context, layers, heads, width, batch
    "A": (65, 32, 2, 2, 64, 16),
    "B": (65, 64, 4, 4, 128, 32),
    "C": (65, 128, 4, 8, 256, 16),
}
SLICE_STEPS = {"A": 8, "B": 2, "C": 1}  # steps per turn: roughly 50-300 ms each
# the sweep: each width keeps the context, layers and heads of A, B or C
SWEEP_SHAPES = {64: (32, 2, 2), 128: (64, 4, 4), 256: (128, 4, 8)}  # width: T, layers, heads
SWEEP_BATCHES = (1, 4, 8, 12, 16, 32, 64)
SWEEP_LONG = ("w64-b8-t256", "w128-b4-t256")  # contexts up to 256
SWEEP = tuple(f"w{w}-b{b}" for w in SWEEP_SHAPES for b in SWEEP_BATCHES) + SWEEP_LONG
FRAMEWORKS = ("gradstack", "numpy", "torch")
REFERENCES = "references"  # gradstack with every kernel off (GRADSTACK_KERNELS=0)
GENERATION_BATCHES = (1, 8)
GENERATION_ROUNDS = 3
GENERATION_KEYS = {
    "gradstack": "generation",
    REFERENCES: "generation_references",
    "torch": "generation_torch",
}
BATCHES = 8  # distinct random batches a worker cycles through


def config_of(name: str) -> tuple:
    """(vocab, context, layers, heads, width, batch) of A-C or a sweep point "w128-b8[-t256]"."""
    if name in CONFIGS:
        return CONFIGS[name]
    match = re.fullmatch(r"w(\d+)-b(\d+)(?:-t(\d+))?", name)
    if match is None or int(match[1]) not in SWEEP_SHAPES:
        raise ValueError(f"unknown config {name!r}: A, B, C or wW-bB[-tT], W in {SWEEP_SHAPES}")
    context, layers, heads = SWEEP_SHAPES[int(match[1])]
    return (65, int(match[3] or context), layers, heads, int(match[1]), int(match[2]))


def slice_steps(name: str) -> int:
    """Steps per turn: about 100 ms of work (a rough count of activation elements)."""
    if name in SLICE_STEPS:
        return SLICE_STEPS[name]
    _, context, layers, _, width, batch = config_of(name)
    return max(1, min(16, (1 << 20) // (batch * context * width * layers)))


# -- workers (run in a subprocess each) --------------------------------------------------


def _batches(cfg: tuple, count: int):
    """Fixed random token batches (inputs, targets)."""
    import numpy as np

    vocab, context, _, _, _, batch = cfg
    rng = np.random.default_rng(0)
    data = rng.integers(0, vocab, size=(count, batch, context + 1))
    return [(np.ascontiguousarray(d[:, :-1]), np.ascontiguousarray(d[:, 1:])) for d in data]


def _gradstack_worker(cfg: tuple, shards: int, loop: str):
    """Build the gradstack model; return (train_step, forward_only, generate) callables.

    ``loop`` "plain" is a user's loop with the library's defaults (GPT's forward kernel
    picks the shards; ``shards`` > 0 pins them); "train" is the step ``gradstack train``
    runs (``gradstack.cli.training_step.training_step``, without gradient clipping, which the
    other two frameworks do not do either) with ``shards`` or the default count.
    """
    from gradstack.autograd import shards_for, suggest_shards, use_shards
    from gradstack.cli.training_step import training_step
    from gradstack.losses import cross_entropy
    from gradstack.optim import AdamW
    from gradstack.tensor import Tensor, manual_seed, no_grad
    from gradstack.transformer import GPT, forward_work

    vocab, context, layers, heads, width, batch_size = cfg
    manual_seed(0)
    model = GPT(vocab, width, layers, heads, max_seq_len=context)
    params = list(model.parameters())
    opt = AdamW(params, lr=1e-3, weight_decay=0.01)
    work = forward_work(context, width, layers)
    count = shards or suggest_shards(batch_size, work)
    pinned = shards or None
    with use_shards(pinned):
        print(f"gradstack: {shards_for(batch_size, work)} shard(s)", file=sys.stderr)

    def train_step(x, y):
        return training_step(model, opt, params, x, y, count, grad_clip=0.0)

    def plain_step(x, y):
        opt.zero_grad()
        with use_shards(pinned):
            loss = cross_entropy(model(x), Tensor(y))
            loss.backward()
        opt.step()
        return loss.item()

    step = plain_step if loop == "plain" else train_step

    def infer(x):
        with no_grad():
            return model(Tensor(x))

    def generate(n, use_cache, batch):
        import numpy as np

        prompt = Tensor(np.zeros((batch, 1), dtype=np.int64))
        model.generate(prompt, n, top_k=1, use_cache=use_cache)

    return step, infer, generate


def _numpy_worker(cfg: tuple):
    """The hand-written NumPy step."""
    sys.path.insert(0, str(HERE))
    import numpy_gpt as ng

    vocab, context, layers, heads, width, batch = cfg
    config = ng.Config(vocab, context, layers, heads, width, batch)
    params = ng.init_params(config)
    opt = ng.AdamW(params, lr=1e-3, weight_decay=0.01)

    def step(x, y):
        loss, grads = ng.loss_and_grads(params, x, y, config)
        opt.step(grads)
        return loss

    def infer(x):
        return ng.forward(params, x, config)[0]

    return step, infer, None


def _torch_worker(cfg: tuple, threads: int | None):
    """The same model in PyTorch on the CPU."""
    import torch

    sys.path.insert(0, str(HERE))
    from torch_gpt import GPT

    if threads:
        torch.set_num_threads(threads)
    vocab, context, layers, heads, width, _ = cfg
    torch.manual_seed(0)
    model = GPT(vocab, width, layers, heads, context)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)

    def step(x, y):
        logits = model(torch.from_numpy(x))
        loss = torch.nn.functional.cross_entropy(
            logits.view(-1, vocab), torch.from_numpy(y).view(-1)
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    def infer(x):
        with torch.no_grad():
            return model(torch.from_numpy(x))

    def generate(n, use_cache, batch):
        if not use_cache:
            raise ValueError("torch_gpt generates with its KV cache only")
        model.generate(torch.zeros((batch, 1), dtype=torch.int64), n)

    return step, infer, generate


def _peak_traced_mb(step, x, y) -> float | None:
    """Peak NumPy memory of one step, by tracemalloc (NumPy reports its allocations)."""
    import tracemalloc

    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    step(x, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - base) / 2**20


def _timed(function, *args) -> float:
    """Milliseconds one call takes."""
    start = time.perf_counter()
    function(*args)
    return (time.perf_counter() - start) * 1000


def run_worker(framework: str, config: str, args: argparse.Namespace) -> None:
    """Build one framework's model, then answer timing requests until told to quit."""
    import resource

    cfg = config_of(config)
    if args.tune and framework == "numpy":
        from gradstack.tensor import tune_malloc  # gradstack: on import, by default

        tune_malloc()
    if framework == "gradstack":
        step, infer, generate = _gradstack_worker(cfg, args.shards, args.loop)
    elif framework == "numpy":
        step, infer, generate = _numpy_worker(cfg)
    else:
        step, infer, generate = _torch_worker(cfg, args.threads)
    batches = _batches(cfg, BATCHES)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    training_batches = itertools.cycle(batches)

    def handle(request: dict) -> dict:
        op = request["op"]
        if op == "steps":  # one untimed step first: it pays for waking threads after the pause
            chosen = list(itertools.islice(training_batches, request["count"] + 1))
            return {"step_ms": [_timed(step, x, y) for x, y in chosen][1:]}
        if op == "infer":  # the same untimed first call
            chosen = batches[: request["count"]]
            return {"infer_ms": [_timed(infer, x) for x, _ in chosen[-1:] + chosen][1:]}
        if op == "memory":
            rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            traced = None if framework == "torch" else _peak_traced_mb(step, *batches[0])
            return {"rss_growth_mb": (rss_peak - rss_before) / 1024, "traced_peak_mb": traced}
        if op == "generate":
            tokens, batch = request["tokens"], request["batch"]
            seconds = _timed(generate, tokens, request["cache"], batch) / 1000
            return {"tokens_per_s": batch * tokens / seconds}
        raise ValueError(f"unknown request {request!r}")

    serve(handle)


# -- orchestration ---------------------------------------------------------------------


def _start(framework: str, config: str, args: argparse.Namespace) -> Worker:
    """A worker process for one framework and config, with the same thread settings for all."""
    env = dict(os.environ)
    worker = framework
    shards = args.shards
    if framework.startswith("gradstack@"):  # gradstack with its shard count pinned
        worker, shards = "gradstack", int(framework.split("@", 1)[1])
    if framework == REFERENCES:
        env["GRADSTACK_KERNELS"] = "0"
        worker = "gradstack"
    command = [sys.executable, __file__, "--worker", worker, "--configs", config]
    if args.threads:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(args.threads)
        command += ["--threads", str(args.threads)]
    command += ["--shards", str(shards), "--loop", args.loop]
    if not args.tune:
        env["GRADSTACK_MALLOC_TUNING"] = "0"
        command.append("--no-malloc-tuning")
    return Worker(framework, command, env)


def _torch_available() -> bool:
    """Whether torch imports in a subprocess (without importing it here)."""
    probe = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True, check=False)
    return probe.returncode == 0


def _generation(worker: Worker, tokens: int, modes=(True, False)) -> dict[str, float]:
    """Tokens/s with and without the KV cache, alternating, median of a few runs each."""
    result: dict[str, list[float]] = collections.defaultdict(list)
    for batch in GENERATION_BATCHES:
        for _ in range(GENERATION_ROUNDS):
            for use_cache in modes:
                request = {"op": "generate", "tokens": tokens, "batch": batch, "cache": use_cache}
                key = f"gen_b{batch}_{'cache' if use_cache else 'nocache'}"
                result[key].append(worker.ask(request)["tokens_per_s"])
    return {key: statistics.median(values) for key, values in result.items()}


def measure(config: str, frameworks: list[str], args: argparse.Namespace) -> dict:
    """Every measurement of one config: step and forward times, memory, generation."""
    workers = {f: _start(f, config, args) for f in frameworks}
    try:
        interleave(workers, {"op": "steps", "count": 3}, rounds=1)  # warm-up
        count = args.steps or slice_steps(config)
        steps = interleave(workers, {"op": "steps", "count": count}, args.rounds)
        infer = interleave(workers, {"op": "infer", "count": 4}, rounds=3)
        result = {
            f: {
                "step_ms": sum((r["step_ms"] for r in steps[f]), []),
                "round_ms": [statistics.median(r["step_ms"]) for r in steps[f]],
                "infer_ms": sum((r["infer_ms"] for r in infer[f]), []),
                "infer_round_ms": [statistics.median(r["infer_ms"]) for r in infer[f]],
                **({} if args.sweep else workers[f].ask({"op": "memory"})),
            }
            for f in frameworks
        }
        if config == "B" and args.generate:
            for name, key in GENERATION_KEYS.items():
                if name in workers:
                    modes = (True,) if name == "torch" else (True, False)
                    result[key] = _generation(workers[name], args.generate, modes)
    finally:
        for worker in workers.values():
            worker.close()
    return result


def _ratio_spread(numerator: list[float], denominator: list[float]) -> str:
    """Median and middle half of the per-round ratios."""
    ratios = sorted(a / b for a, b in zip(numerator, denominator))
    quarter = len(ratios) // 4
    middle = ratios[quarter : len(ratios) - quarter] or ratios
    return f"median {statistics.median(ratios):.2f}, middle half {middle[0]:.2f}-{middle[-1]:.2f}"


def report(results: dict, configs: list[str], frameworks: list[str]) -> str:
    """A markdown table of medians and ratios, then per-round spreads and generation."""
    lines = [
        "| config | framework | ms/step (median) | tokens/s | forward ms | peak MB (traced) "
        "| RSS growth MB | vs NumPy | vs torch |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for config in configs:
        _, context, _, _, _, batch = config_of(config)
        runs = results[config]
        med = {f: statistics.median(runs[f]["step_ms"]) for f in frameworks}
        for f in frameworks:
            infer = statistics.median(runs[f]["infer_ms"])
            traced = runs[f]["traced_peak_mb"]
            vs_np = f"{med[f] / med['numpy']:.2f}" if "numpy" in med else "-"
            vs_torch = f"{med[f] / med['torch']:.2f}" if "torch" in med else "-"
            lines.append(
                f"| {config} | {f} | {med[f]:.1f} | {batch * context / med[f] * 1000:,.0f} | "
                f"{infer:.1f} | {'-' if traced is None else f'{traced:.0f}'} | "
                f"{runs[f]['rss_growth_mb']:.0f} | {vs_np} | {vs_torch} |"
            )
    lines.append("")
    for config in configs:
        runs = results[config]
        pairs = [("gradstack", "numpy"), ("gradstack", "torch"), (REFERENCES, "torch")]
        pairs.append((REFERENCES, "gradstack"))  # what the kernels buy
        pairs += [(f, "torch") for f in frameworks if f.startswith("gradstack@")]
        for name, other in pairs:
            if name in frameworks and other in frameworks:
                spread = _ratio_spread(runs[name]["round_ms"], runs[other]["round_ms"])
                lines.append(f"{config}: {name} / {other} per round: {spread}  ")
        if "torch" in frameworks:
            for name in frameworks:
                if name.startswith("gradstack") or name == REFERENCES:
                    spread = _ratio_spread(
                        runs[name]["infer_round_ms"], runs["torch"]["infer_round_ms"]
                    )
                    lines.append(f"{config}: {name} / torch no_grad forward per round: {spread}  ")
    for config in configs:
        torch_gen = results[config].get(GENERATION_KEYS["torch"], {})
        for name, key in GENERATION_KEYS.items():
            gen = results[config].get(key)
            if not gen or name == "torch":
                continue
            lines.append("")
            for batch in GENERATION_BATCHES:
                cache, nocache = gen[f"gen_b{batch}_cache"], gen[f"gen_b{batch}_nocache"]
                versus = torch_gen.get(f"gen_b{batch}_cache")
                torch_part = (
                    f"; torch cached {versus:,.0f}: {cache / versus:.2f}x torch" if versus else ""
                )
                lines.append(
                    f"Generation on {config} ({name}, batch {batch}, top-k 1): {cache:,.0f} "
                    f"tokens/s with the KV cache, {nocache:,.0f} recomputing the context: "
                    f"{cache / nocache:.1f}x{torch_part}  "
                )
    return "\n".join(lines)


def sweep_report(results: dict, configs: list[str], name: str = "gradstack") -> str:
    """One row per sweep point: ms per step of gradstack and torch, and their ratio."""
    lines = [
        "| point (width, batch, context) | gradstack ms | torch ms | ratio | per-round median "
        "| forward ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    ratios = []
    for config in configs:
        _, context, _, _, width, batch = config_of(config)
        runs = results[config]
        ours, theirs = (statistics.median(runs[f]["step_ms"]) for f in (name, "torch"))
        forward = statistics.median(runs[name]["infer_ms"]) / statistics.median(
            runs["torch"]["infer_ms"]
        )
        per_round = statistics.median(
            a / b for a, b in zip(runs[name]["round_ms"], runs["torch"]["round_ms"])
        )
        ratios.append(ours / theirs)
        lines.append(
            f"| {width}, {batch}, {context} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.2f} | "
            f"{per_round:.2f} | {forward:.2f} |"
        )
    lines.append("")
    lines.append(
        f"Sweep ({name} / torch): median {statistics.median(ratios):.2f}, "
        f"max {max(ratios):.2f}, points above 1.1: {sum(r > 1.1 for r in ratios)} of {len(ratios)}"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="A,B,C", help="comma-separated subset of A,B,C")
    parser.add_argument("--rounds", type=int, default=12, help="interleaved rounds (turns each)")
    parser.add_argument(
        "--steps",
        type=int,
        default=0,
        help=f"steps per turn (default by config: {SLICE_STEPS})",
    )
    parser.add_argument("--threads", type=int, default=None, help="BLAS/torch threads for all")
    parser.add_argument("--generate", type=int, default=256, help="tokens to generate (config B)")
    parser.add_argument(
        "--frameworks",
        default=",".join(FRAMEWORKS),
        help=f"comma-separated subset of {', '.join(FRAMEWORKS + (REFERENCES,))}; "
        "gradstack@N is gradstack with N batch shards pinned (to compare shard counts)",
    )
    parser.add_argument(
        "--shards",
        type=int,
        default=0,
        help="gradstack: batch shards run in parallel threads (default 0: what "
        "gradstack.autograd.suggest_shards picks, as gradstack train does)",
    )
    parser.add_argument(
        "--no-malloc-tuning",
        dest="tune",
        action="store_false",
        help="leave glibc's malloc as it is (default: tuned, for gradstack and "
        "the NumPy reference alike; torch has its own allocator)",
    )
    parser.add_argument(
        "--loop",
        choices=("plain", "train"),
        default="plain",
        help="gradstack: a plain user loop with the library's defaults (default), or the "
        "step gradstack train runs",
    )
    parser.add_argument(
        "--sweep", action="store_true", help=f"time the sweep ({len(SWEEP)} points) instead"
    )
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument("--worker", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args.worker, args.configs, args)
        return
    configs = list(SWEEP) if args.sweep else args.configs.split(",")
    frameworks = [f for f in args.frameworks.split(",") if f != "torch" or _torch_available()]
    if args.sweep and "torch" not in frameworks:
        parser.error("--sweep reports ratios to torch: install torch==2.13.0 and list it")
    results = {}
    for config in configs:
        results[config] = measure(config, frameworks, args)
        for f in frameworks:
            median = statistics.median(results[config][f]["step_ms"])
            print(f"{config} {f}: {median:.1f} ms/step", file=sys.stderr)
    if args.sweep:
        table = sweep_report(results, configs, frameworks[0])
    else:
        table = report(results, configs, frameworks)
    print(table)
    if args.markdown:
        args.markdown.write_text(table + "\n")


if __name__ == "__main__":
    main()
