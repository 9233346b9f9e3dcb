"""The training loop: steps, logging, evaluation with samples, checkpoints, stopping.

Everything random (dropout, batch offsets) draws from gradstack's default generator,
whose state is saved with each checkpoint, so a resumed run takes the same batches as
an uninterrupted one. Text samples draw from it too, but its state is put back
afterwards: evaluating never changes the training run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from gradstack.autograd import flow_report
from gradstack.losses import cross_entropy
from gradstack.optim import AdamW, CosineAnnealingLR, state_to_arrays
from gradstack.tensor import Tensor, default_generator, no_grad
from gradstack.transformer import GPT

from .checkpoint import RunState, save_run
from .data import Batches
from .errors import TrainingDiverged, UsageError
from .interrupt import StopOnInterrupt
from .metrics import PLOT_FILE, MetricsLog, plot_losses
from .settings import TrainSettings
from .textstream import StreamingDecoder
from .training_step import training_step

SAMPLE_TEMPERATURE = 0.8


@contextmanager
def preserved_rng() -> Iterator[None]:
    """Run the body, then put the default generator back in the state it had."""
    generator = default_generator()
    state = generator.bit_generator.state
    try:
        yield
    finally:
        generator.bit_generator.state = state


@dataclass
class TrainingRun:
    """A model with its optimizer, schedule, data and checkpoint directory."""

    model: GPT
    optimizer: AdamW
    schedule: CosineAnnealingLR
    settings: TrainSettings
    batches: Batches
    eval_inputs: np.ndarray  # (N, T) held-out windows
    eval_targets: np.ndarray  # (N, T)
    tokenizer: Any
    prompt: list[int]
    directory: Path
    metrics: MetricsLog
    run_info: dict[str, Any]  # tokenizer kind and data description, for config.json
    tokenizer_bytes: bytes  # tokenizer.json, saved with every checkpoint
    step: int = 0
    elapsed_before: float = 0.0  # seconds spent in earlier sessions of this run
    last_train_loss: float = math.nan
    last_val_loss: float = math.nan
    baseline: float = math.nan  # unigram held-out loss, for comparison
    _losses: list[float] = field(default_factory=list)
    _session_start: float = field(default_factory=time.perf_counter)
    saved_step: int | None = None  # the step of the checkpoint on disk, if any
    flow_report: bool = False  # --flow-report: the gradient-flow report at each evaluation

    def __post_init__(self) -> None:
        self.params = list(self.model.parameters())

    @property
    def elapsed(self) -> float:
        """Wall-clock seconds of training so far, over every session of the run."""
        return self.elapsed_before + time.perf_counter() - self._session_start

    # -- one step -----------------------------------------------------------------

    def train_step(self) -> float:
        """Forward, backward, clip, update on one batch; returns the batch loss.

        A non-finite loss or gradient norm stops the run (``TrainingDiverged``) before
        the update, and nothing is saved after it.
        """
        inputs, targets = self.batches.sample(default_generator())  # (B, T) each
        s = self.settings
        try:
            with np.errstate(all="ignore"):  # overflow is caught as a non-finite loss below
                loss = training_step(
                    self.model, self.optimizer, self.params, inputs, targets, s.shards, s.grad_clip
                )
        except FloatingPointError as error:
            raise self._diverged(str(error)) from None
        self.schedule.step()
        self.step += 1
        return loss

    def _diverged(self, what: str, step: int | None = None) -> TrainingDiverged:
        """The one-line report of a divergence at ``step`` (default: the one being taken)."""
        s = self.settings
        kept = (
            f"nothing was saved after the checkpoint of step {self.saved_step}, which is kept"
            if self.saved_step is not None
            else "no checkpoint had been saved yet"
        )
        clip = f"a smaller --grad-clip (now {s.grad_clip:g})" if s.grad_clip else "--grad-clip 1"
        what = what.removeprefix("clip_grad_norm_: ").split(";")[0]
        at = self.step + 1 if step is None else step
        return TrainingDiverged(
            f"training diverged at step {at}: {what}; {kept}; try a lower --lr (now {s.lr:g}) "
            f"or {clip}"
        )

    # -- evaluation ---------------------------------------------------------------

    def held_out_loss(self) -> float:
        """Mean cross-entropy over the fixed held-out windows, in eval mode."""
        self.model.eval()
        total, count = 0.0, 0
        size = self.settings.batch_size
        with no_grad():
            for start in range(0, len(self.eval_inputs), size):
                inputs = self.eval_inputs[start : start + size]  # (b, T)
                targets = self.eval_targets[start : start + size]  # (b, T)
                loss = cross_entropy(self.model(inputs), Tensor(targets))
                total += float(loss.item()) * len(inputs)
                count += len(inputs)
        self.model.train()
        return total / count

    def sample(self, num_tokens: int) -> str:
        """Text the model writes after the prompt (the generator's state is restored)."""
        if num_tokens == 0:
            return ""
        decoder = StreamingDecoder(self.tokenizer)
        pieces = [self.tokenizer.decode(self.prompt)]
        with preserved_rng():
            stream = self.model.generate_stream(
                np.asarray([self.prompt]), num_tokens, temperature=SAMPLE_TEMPERATURE
            )
            pieces.extend(decoder.feed(int(column[0])) for column in stream)
        pieces.append(decoder.finish())
        return "".join(pieces)

    # -- saving -------------------------------------------------------------------

    def save(self) -> None:
        """Publish a checkpoint of the current step (all or nothing); never NaN weights."""
        optimizer_state = self.optimizer.state_dict()
        arrays = {f"weights {name}": p.data for name, p in self.model.named_parameters()}
        arrays.update(
            (f"optimizer state {k}", v) for k, v in state_to_arrays(optimizer_state).items()
        )
        for name, array in arrays.items():
            if array.dtype.kind == "f" and not np.isfinite(array).all():
                raise self._diverged(f"the {name} are not finite", self.step)
        state = RunState(
            step=self.step,
            elapsed=self.elapsed,
            training=self.settings.to_dict(),
            tokenizer_kind=self.run_info["tokenizer"],
            data=self.run_info["data"],
            rng=default_generator().bit_generator.state,
        )
        try:
            save_run(
                self.directory,
                self.model,
                optimizer_state,
                self.schedule.state_dict(),
                state,
                self.tokenizer_bytes,
                self.metrics.to_bytes(),
            )
        except OSError as error:  # disk full, read-only, failing: the last checkpoint stays
            kept = (
                f"the checkpoint of step {self.saved_step} is kept"
                if self.saved_step is not None
                else "no checkpoint was saved"
            )
            raise UsageError(
                f"cannot save the checkpoint of step {self.step} in {self.directory}: "
                f"{error.strerror or error}; {kept}"
            ) from None
        self.saved_step = self.step

    # -- the loop -----------------------------------------------------------------

    def run(self, stop_at: int, interrupt: StopOnInterrupt) -> str:
        """Train until ``stop_at`` or Ctrl-C; returns "done", "stopped" or "interrupted"."""
        s = self.settings
        tokens_per_step = s.batch_size * s.context
        self._session_start = time.perf_counter()
        bar = tqdm(total=s.steps, initial=self.step, unit="step", dynamic_ncols=True)
        interval_start, interval_steps = time.perf_counter(), 0
        try:
            while self.step < stop_at and not interrupt.requested:
                self._losses.append(self.train_step())
                interval_steps += 1
                bar.update(1)
                evaluate = self.step % s.eval_every == 0 or self.step == s.steps
                if self.step % s.log_every == 0 or evaluate:
                    seconds = time.perf_counter() - interval_start
                    speed = interval_steps * tokens_per_step / max(seconds, 1e-9)
                    self._log(bar, speed, evaluate)
                    interval_start, interval_steps = time.perf_counter(), 0
        finally:
            bar.close()
        if self.saved_step != self.step:
            self.save()  # stopped between evaluations: save where we are
        if interrupt.requested:
            return "interrupted"
        return "done" if self.step == s.steps else "stopped"

    def _log(self, bar: tqdm, tokens_per_s: float, evaluate: bool) -> None:
        """Record a metrics row; on evaluation steps add the held-out loss, a sample, a save."""
        self.last_train_loss = float(np.mean(self._losses))
        self._losses.clear()
        row: dict[str, Any] = {
            "step": self.step,
            "train_loss": round(self.last_train_loss, 6),
            "lr": self.schedule.get_last_lr()[0],
            "tokens_per_s": round(tokens_per_s, 1),
            "elapsed": round(self.elapsed, 3),
        }
        bar.set_postfix_str(f"loss {self.last_train_loss:.3f}, {tokens_per_s:,.0f} tok/s")
        if evaluate:
            self.last_val_loss = self.held_out_loss()
            if not math.isfinite(self.last_val_loss):  # a diverged model: do not save it
                raise self._diverged(f"the held-out loss is {self.last_val_loss}", self.step)
            row["val_loss"] = round(self.last_val_loss, 6)
            report = (
                f"step {self.step}: train loss {self.last_train_loss:.4f}, "
                f"held-out loss {self.last_val_loss:.4f}"
            )
            if self.flow_report:
                report += "\n" + self._flow_report(row)
            if self.step < self.settings.steps:  # the last step's sample is printed at the end
                report += "\n" + self.sample(self.settings.sample_tokens) + "\n"
            bar.write(report)
            self.metrics.append(row)
            self.save()
        else:
            self.metrics.append(row)

    def _flow_report(self, row: dict[str, Any]) -> str:
        """The last step's (clipped) gradients, one row per parameter, also put in ``row``."""
        report = flow_report(self.model)
        row["flow_report"] = report.as_dicts()
        return "gradient flow of the last step (clipped):\n" + report.table()

    def finish_plot(self) -> bool:
        """Write loss.png if matplotlib is installed."""
        return plot_losses(self.metrics.rows, self.directory / PLOT_FILE, self.baseline)
