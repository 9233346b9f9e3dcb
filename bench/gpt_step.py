"""GPT training-step benchmark: gradstack vs hand-written NumPy vs PyTorch (CPU).

Each framework runs in its own subprocess (so thread pools never fight), and the
frameworks are interleaved round by round, so a noisy shared machine slows them
alike; the report gives medians and the ratios gradstack / NumPy and gradstack /
torch measured in the same run. Not a test: run it by hand.

    python bench/gpt_step.py                      # configs A, B, C; 3 rounds
    python bench/gpt_step.py --configs B --rounds 5 --threads 2 --markdown out.md
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIGS = {  # vocab, context, layers, heads, width, batch
    "A": (65, 32, 2, 2, 64, 16),
    "B": (65, 64, 4, 4, 128, 32),
    "C": (65, 128, 4, 8, 256, 16),
}
FRAMEWORKS = ("gradstack", "numpy", "torch")
GENERATION_BATCHES = (1, 8)


# -- workers (run in a subprocess each) --------------------------------------------------


def _batches(cfg: tuple, count: int):
    """Fixed random token batches (inputs, targets)."""
    import numpy as np

    vocab, context, _, _, _, batch = cfg
    rng = np.random.default_rng(0)
    data = rng.integers(0, vocab, size=(count, batch, context + 1))
    return [(np.ascontiguousarray(d[:, :-1]), np.ascontiguousarray(d[:, 1:])) for d in data]


def _gradstack_worker(cfg: tuple, shards: int):
    """Build the gradstack model; return (train_step, forward_only, generate) callables.

    The step is the one ``gradstack train`` runs (``gradstack.cli.speed.training_step``,
    without gradient clipping, which the other two frameworks do not do either): with
    ``shards`` > 1 the batch is split into shards that run forward and backward in
    parallel threads, one BLAS thread each.
    """
    from gradstack.autograd import suggest_shards
    from gradstack.cli.speed import training_step
    from gradstack.optim import AdamW
    from gradstack.tensor import Tensor, manual_seed, no_grad
    from gradstack.transformer import GPT

    vocab, context, layers, heads, width, batch_size = cfg
    manual_seed(0)
    model = GPT(vocab, width, layers, heads, max_seq_len=context)
    params = list(model.parameters())
    opt = AdamW(params, lr=1e-3, weight_decay=0.01)
    count = shards or suggest_shards(batch_size, context * width)
    print(f"gradstack: {count} shard(s)", file=sys.stderr)

    def step(x, y):
        return training_step(model, opt, params, x, y, count, grad_clip=0.0)

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

    return step, infer, None


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


def run_worker(
    framework: str, config: str, steps: int, threads: int | None, gen: int, shards: int, tune: bool
) -> dict:
    """Time one framework on one config; return the measurements as a dict."""
    import resource

    cfg = CONFIGS[config]
    if tune and framework != "torch":
        from gradstack.tensor.runtime import tune_malloc

        tune_malloc()
    if framework == "gradstack":
        step, infer, generate = _gradstack_worker(cfg, shards)
    elif framework == "numpy":
        step, infer, generate = _numpy_worker(cfg)
    else:
        step, infer, generate = _torch_worker(cfg, threads)
    batches = _batches(cfg, steps + 3)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for x, y in batches[:3]:
        step(x, y)
    times, losses = [], []
    for x, y in batches[3:]:
        start = time.perf_counter()
        losses.append(step(x, y))
        times.append(time.perf_counter() - start)
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    infer_times = []
    for x, _ in batches[:5]:
        start = time.perf_counter()
        infer(x)
        infer_times.append(time.perf_counter() - start)
    result = {
        "step_ms": [t * 1000 for t in times],
        "infer_ms": [t * 1000 for t in infer_times[1:]],
        "rss_growth_mb": (rss_peak - rss_before) / 1024,
        "traced_peak_mb": None if framework == "torch" else _peak_traced_mb(step, *batches[0]),
        "last_loss": losses[-1],
    }
    if generate is not None and gen:
        for batch in GENERATION_BATCHES:
            for use_cache in (True, False):
                start = time.perf_counter()
                generate(gen, use_cache, batch)
                key = f"gen_b{batch}_{'cache' if use_cache else 'nocache'}"
                result[key] = batch * gen / (time.perf_counter() - start)
    return result


# -- orchestration ---------------------------------------------------------------------


def _spawn(
    framework: str, config: str, steps: int, threads: int | None, gen: int, shards: int, tune: bool
) -> dict:
    """Run one worker in a fresh interpreter with the same thread settings for all."""
    env = dict(os.environ)
    if threads:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        framework,
        "--configs",
        config,
        "--steps",
        str(steps),
        "--generate",
        str(gen),
    ]
    if threads:
        cmd += ["--threads", str(threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{framework} worker on {config} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _torch_available() -> bool:
    """Whether torch imports in a subprocess (without importing it here)."""
    probe = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True, check=False)
    return probe.returncode == 0


def report(results: dict, configs: list[str], frameworks: list[str]) -> str:
    """A markdown table of medians and ratios."""
    lines = [
        "| config | framework | ms/step (median) | tokens/s | forward ms | peak MB (traced) "
        "| RSS growth MB | vs NumPy | vs torch |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for config in configs:
        _, context, _, _, _, batch = CONFIGS[config]
        med = {
            f: statistics.median(sum((r["step_ms"] for r in results[config][f]), []))
            for f in frameworks
        }
        for f in frameworks:
            runs = results[config][f]
            infer = statistics.median(sum((r["infer_ms"] for r in runs), []))
            traced = runs[-1]["traced_peak_mb"]
            vs_np = f"{med[f] / med['numpy']:.2f}" if "numpy" in med else "-"
            vs_torch = f"{med[f] / med['torch']:.2f}" if "torch" in med else "-"
            lines.append(
                f"| {config} | {f} | {med[f]:.1f} | {batch * context / med[f] * 1000:,.0f} | "
                f"{infer:.1f} | {'-' if traced is None else f'{traced:.0f}'} | "
                f"{max(r['rss_growth_mb'] for r in runs):.0f} | {vs_np} | {vs_torch} |"
            )
    gen = [r for c in configs for r in results[c].get("gradstack", []) if "gen_b1_cache" in r]
    if gen:
        lines.append("")
        for batch in GENERATION_BATCHES:
            cache = statistics.median(r[f"gen_b{batch}_cache"] for r in gen)
            nocache = statistics.median(r[f"gen_b{batch}_nocache"] for r in gen)
            lines.append(
                f"Generation on B (gradstack, batch {batch}, top-k 1): {cache:,.0f} tokens/s "
                f"with the KV cache, {nocache:,.0f} recomputing the context: "
                f"{cache / nocache:.1f}x  "
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="A,B,C", help="comma-separated subset of A,B,C")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per worker run")
    parser.add_argument("--threads", type=int, default=None, help="BLAS/torch threads for all")
    parser.add_argument("--generate", type=int, default=256, help="tokens to generate (config B)")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
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
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument("--worker", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(
            json.dumps(
                run_worker(
                    args.worker,
                    args.configs,
                    args.steps,
                    args.threads,
                    args.generate,
                    args.shards,
                    args.tune,
                )
            )
        )
        return
    configs = args.configs.split(",")
    frameworks = [f for f in args.frameworks.split(",") if f != "torch" or _torch_available()]
    results: dict = {c: {f: [] for f in frameworks} for c in configs}
    for round_number in range(args.rounds):
        for config in configs:
            for framework in frameworks:
                gen = args.generate if config == "B" and round_number == 0 else 0
                results[config][framework].append(
                    _spawn(framework, config, args.steps, args.threads, gen, args.shards, args.tune)
                )
                print(
                    f"round {round_number + 1} {config} {framework}: "
                    f"{statistics.median(results[config][framework][-1]['step_ms']):.1f} ms",
                    file=sys.stderr,
                )
    table = report(results, configs, frameworks)
    print(table)
    if args.markdown:
        args.markdown.write_text(table + "\n")


if __name__ == "__main__":
    main()
