"""One training step and one evaluation pass for each regime.

`HeadRegime` covers every graph trained through its Output heads: supervised, autoencoder, VAE
(adds the model's beta*KL) and segmentation. `GanRegime` alternates a discriminator step and a
generator step with two optimizers; a conditional discriminator (pix2pix) is shown each real and
each generated sample beside its condition. A step returns its losses as one device tensor, in the order
of `loss_names`, without reading it: the engine reads many steps' losses at once at its reporting
interval. An evaluation pass sums on the device too and reads once at its end.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from . import samples as grids
from .config import RuntimePlan, TrainConfig
from .feed import Feeder
from .metrics import MetricAccumulator, bce_on_probabilities, head_loss
from .task import GAN, Task

Wrap = Callable[[torch.nn.Module], torch.nn.Module]
_NO_AUTOCAST = contextlib.nullcontext()  # reusable: entering it does nothing
SAMPLE_COUNT = 8


class Regime:
    """What both regimes share: precision, backward/step with optional scaler and clipping."""

    def __init__(self, task: Task, net: torch.nn.Module, config: TrainConfig, plan: RuntimePlan,
                 device: torch.device) -> None:
        self.task, self.net, self.config, self.plan, self.device = task, net, config, plan, device
        self.optimizers: list[torch.optim.Optimizer] = []
        self.scalers: list[Any] = []
        self.train_metrics = MetricAccumulator(task.heads if task.regime != GAN else [])
        # where each of `loss_names` sits in a step's loss tensor (None: in order, one value each)
        self.loss_slots: list[int] | None = None
        self.fields = {b.node: b.field for b in task.inputs}

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.plan.amp_dtype is None:
            return _NO_AUTOCAST
        return torch.autocast(device_type=self.device.type, dtype=getattr(torch, self.plan.amp_dtype))

    def _make_optimizer(self, groups: list[dict]) -> torch.optim.Optimizer:
        c = self.config
        groups = [g for g in groups if any(p.requires_grad for p in g["params"])]
        if not groups:
            raise ValueError("every layer is frozen, so there is nothing to train: unfreeze a layer")
        # One fused kernel for the whole update instead of a dozen per tensor. On CUDA it saves
        # launches; on the CPU it is vectorised and threaded: the moons MLP's whole step takes
        # 0.29 ms instead of 0.41 ms, and a 5-million-weight Adam update 3 ms instead of 23 ms
        # (1 thread, bare loops), and the weights agree with the default implementation's to
        # float rounding (tests/training/test_regimes.py).
        fused = {"fused": True} if self.device.type in ("cpu", "cuda") and all(
            p.is_floating_point() for g in groups for p in g["params"]) else {}
        betas = tuple(c.betas) if c.betas else ((0.5, 0.999) if self.task.regime == GAN else (0.9, 0.999))
        if c.optimizer == "sgd":
            opt = torch.optim.SGD(groups, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay, **fused)
        elif c.optimizer == "adam":
            opt = torch.optim.Adam(groups, lr=c.lr, betas=betas, weight_decay=c.weight_decay, **fused)
        else:
            opt = torch.optim.AdamW(groups, lr=c.lr, betas=betas, weight_decay=c.weight_decay, **fused)
        self.optimizers.append(opt)
        self.scalers.append(torch.amp.GradScaler(self.device.type) if self.plan.grad_scaler else None)
        return opt

    def _update(self, loss: torch.Tensor, index: int, params: list[torch.nn.Parameter],
                zeroed: bool = False) -> None:
        """Backward and step; `zeroed`: the caller cleared the gradients before its forward."""
        opt, scaler = self.optimizers[index], self.scalers[index]
        if not zeroed:
            opt.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            if self.config.grad_clip:
                scaler.unscale_(opt)
                torch.nn.utils.clip_grad_norm_(params, self.config.grad_clip)
            scaler.step(opt)
            scaler.update()
            return
        loss.backward()
        if self.config.grad_clip:
            torch.nn.utils.clip_grad_norm_(params, self.config.grad_clip)
        opt.step()

    def state_dict(self) -> dict[str, Any]:
        return {"optimizers": [o.state_dict() for o in self.optimizers],
                "scalers": [s.state_dict() if s is not None else {} for s in self.scalers]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for opt, sd in zip(self.optimizers, state.get("optimizers", [])):
            opt.load_state_dict(sd)
        for scaler, sd in zip(self.scalers, state.get("scalers", [])):
            if scaler is not None and sd:
                scaler.load_state_dict(sd)

    def take_train_metrics(self) -> dict[str, float]:
        """The train split's metrics since the last call (then start counting afresh)."""
        _, metrics = self.train_metrics.result()
        self.train_metrics = MetricAccumulator(self.train_metrics.heads)
        return metrics


class HeadRegime(Regime):
    """Supervised, autoencoder, VAE and segmentation: the weighted sum of the heads' losses."""

    def __init__(self, task: Task, net: torch.nn.Module, graph: Any, config: TrainConfig,
                 plan: RuntimePlan, device: torch.device, wrap: Wrap) -> None:
        import codegen

        super().__init__(task, net, config, plan, device)
        groups = _freeze_the_rest(net, codegen.param_groups(net, graph, config.lr))
        self.fwd = wrap(net)
        self.outputs = [n.id for n in graph.nodes_of_type("Output")]
        self._input_dtypes = [(b, torch.int64 if b.dtype == "int64" else torch.float32) for b in task.inputs]
        # (head, the batch field its target is): an input (autoencoders) or a data field
        self._target_fields = [(h.node, self.fields[h.target_input] if h.target_input else h.target_field)
                               for h in task.heads]
        self.vae = task.regime == "vae"
        self.params = [p for p in net.parameters() if p.requires_grad]
        self._make_optimizer(groups)
        # the keys of `_losses`'s parts, in its order (a head may itself be named "reconstruction")
        parts = [h.node for h in task.heads]
        if any(h.kind == "reconstruct" for h in task.heads):
            parts.append("reconstruction")
        if self.vae:
            parts.append("kl")
        self.loss_names = ["loss", *dict.fromkeys(parts)]
        # one head of weight 1 (no KL term): every name's value is the total, so a step keeps
        # the total alone (no stack kernel per step) and the engine repeats it for each name
        if len(task.heads) == 1 and task.heads[0].weight == 1.0 and not self.vae:
            self.loss_slots = [0] * len(self.loss_names)
        self._one_head = False
        # The common graph (one data input, one head of weight 1, full precision, no clipping)
        # takes `_one_head_step`: the same kernels as train_step with none of its loops and
        # dictionaries between them, which on the moons MLP were a tenth of the engine's cost.
        if (type(self) is HeadRegime and self.loss_slots is not None and len(task.inputs) == 1 and not task.inputs[0].noise
                and len(self.outputs) == 1 and self.plan.amp_dtype is None and self.scalers[0] is None
                and not config.grad_clip):
            head, source = task.heads[0], task.inputs[0]
            self._head, self._input_field, self._input_dtype = head, source.field, self._input_dtypes[0][1]
            self._target_field = self._target_fields[0][1]
            self._one_head = True

    def _one_head_step(self, batch: dict[str, torch.Tensor], n: int) -> torch.Tensor:
        """train_step for the common graph (see __init__); the loss as an unread 0-d tensor."""
        x, target = batch[self._input_field], batch[self._target_field]
        opt = self.optimizers[0]
        opt.zero_grad(set_to_none=True)
        out = self.fwd(x if x.dtype is self._input_dtype else x.to(self._input_dtype))
        if isinstance(out, dict):
            out = out[self._head.node]
        loss = head_loss(self._head, out, target)
        loss.backward()
        opt.step()
        self.train_metrics.add_output(self._head, out, target)
        return loss.detach()

    def train_step(self, batch: dict[str, torch.Tensor], n: int) -> torch.Tensor:
        """One update; the losses (named by `loss_names`, laid out by `loss_slots`) as one
        unread device tensor."""
        if self._one_head:
            return self._one_head_step(batch, n)
        single = self.loss_slots is not None
        targets = self._targets(batch)
        # cleared before the forward, as the textbook loop does: the last step's gradients are
        # freed before the forward allocates (after it, the step measured ~1 % slower on the MLP)
        self.optimizers[0].zero_grad(set_to_none=True)
        with self.autocast():
            outputs = self._forward(self.fwd, batch, n)
            total, parts = self._losses(outputs, batch, targets, detail=not single)
        self._update(total, 0, self.params, zeroed=True)
        self.train_metrics.add_outputs(outputs, targets)
        if single:
            return total.detach()
        return torch.stack([total.detach().float(), *parts.values()])

    @torch.no_grad()
    def evaluate(self, feeder: Feeder, batch_size: int) -> tuple[dict[str, float], dict[str, float]]:
        acc = MetricAccumulator(self.task.heads)
        sums: torch.Tensor | None = None
        seen = 0
        self.net.eval()
        try:
            for index, batch in feeder.sequential(batch_size):
                with self.autocast():
                    outputs = self._forward(self.net, batch, len(index))
                    total, parts = self._losses(outputs, batch)
                values = torch.stack([total.float(), *parts.values()]) * len(index)
                sums = values if sums is None else sums + values
                seen += len(index)
                acc.add_outputs(outputs, self._targets(batch))
        finally:
            self.net.train()
        if sums is not None:
            acc.add_losses(dict(zip(self.loss_names, (sums / seen).tolist())), seen)
        return acc.result()

    @torch.no_grad()
    def sample_grid(self, feeder: Feeder) -> tuple[np.ndarray, str] | None:
        """Inputs above reconstructions (autoencoders) or image / truth / prediction (segmentation)."""
        recon = next((h for h in self.task.heads if h.kind == "reconstruct"), None)
        segment = next((h for h in self.task.heads if h.kind == "segment"), None)
        if recon is None and segment is None:
            return None
        index = torch.arange(min(SAMPLE_COUNT, len(feeder)))
        batch = feeder.batch(index)  # a streamed split decodes these few here
        self.net.eval()
        try:
            with self.autocast():
                outputs = self._forward(self.net, batch, len(index))
        finally:
            self.net.train()
        if recon is not None:
            source = next(b for b in self.task.inputs if b.node == recon.target_input)
            if not grids.is_image_shape(source.shape):
                return None
            made = outputs[recon.node].float()
            if recon.loss == "bce":  # the head gives logits; the picture shows probabilities (bce_probs has them)
                made = torch.sigmoid(made)
            pair = torch.cat([batch[source.field].float(), made.reshape(len(index), *source.shape)])
            images = grids.to_rgb(pair.cpu().numpy())
            return grids.tile(images, len(index), scale=grids.upscale_for(images.shape[1])), "reconstruction"
        image = next((b for b in self.task.inputs if not b.noise and grids.is_image_shape(b.shape)), None)
        truth = batch[segment.target_field].cpu().numpy()
        rows = [grids.masks_to_rgb(truth), grids.masks_to_rgb(outputs[segment.node].argmax(1).cpu().numpy())]
        if image is not None and tuple(image.shape[-2:]) == truth.shape[1:]:
            rows.insert(0, grids.to_rgb(batch[image.field].float().cpu().numpy()))
        images = np.concatenate(rows)
        return grids.tile(images, len(index), scale=grids.upscale_for(images.shape[1])), "segmentation"

    def _forward(self, module: torch.nn.Module, batch: dict[str, torch.Tensor], n: int) -> dict[str, torch.Tensor]:
        args = []
        for b, wanted in self._input_dtypes:
            if b.noise:
                args.append(torch.randn(n, *b.shape, device=self.device))
                continue
            x = batch[b.field]
            args.append(x if x.dtype is wanted else x.to(wanted))
        result = module(*args)
        return result if isinstance(result, dict) else {self.outputs[0]: result}

    def _targets(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {node: batch[field] for node, field in self._target_fields}

    def _losses(self, outputs: dict[str, torch.Tensor], batch: dict[str, torch.Tensor],
                targets: dict[str, torch.Tensor] | None = None, detail: bool = True
                ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(total, the parts named by `loss_names[1:]`); `detail=False` leaves the parts out (a
        single-loss training step, whose parts all equal the total)."""
        targets = self._targets(batch) if targets is None else targets
        if not detail:
            h = self.task.heads[0]
            return head_loss(h, outputs[h.node], targets[h.node]), {}
        parts: dict[str, torch.Tensor] = {}
        total: torch.Tensor | None = None
        recon: torch.Tensor | None = None
        for h in self.task.heads:
            loss = head_loss(h, outputs[h.node], targets[h.node], self.vae and h.kind == "reconstruct")
            weighted = loss if h.weight == 1.0 else h.weight * loss
            total = weighted if total is None else total + weighted
            parts[h.node] = loss.detach()
            if h.kind == "reconstruct":
                recon = loss.detach() if recon is None else recon + loss.detach()
        if recon is not None:
            parts["reconstruction"] = recon
        if self.vae:
            kl = self.net.kl_loss().float()
            total = total + kl
            parts["kl"] = kl.detach()
        return total, parts


REAL_TARGET = 0.9  # the discriminator's training target for real samples (one-sided smoothing)


class GanRegime(Regime):
    """Alternating discriminator and generator steps, each with its own optimizer."""

    def __init__(self, task: Task, net: torch.nn.Module, graph: Any, config: TrainConfig,
                 plan: RuntimePlan, device: torch.device, wrap: Wrap) -> None:
        import codegen

        super().__init__(task, net, config, plan, device)
        self.g_net, self.d_net = net.generator, net.discriminator
        groups = _freeze_the_rest(net, codegen.param_groups(net, graph, config.lr))
        self.g_fwd, self.d_fwd = wrap(self.g_net), wrap(self.d_net)
        self.latent = tuple(net.latent_shape)
        self.real_field = self.fields[task.gan_real]
        # A conditional GAN (pix2pix): the generator reads a data field (a mask, an image) instead
        # of noise, and heads fed by its output (an L1 term against the target) join its loss.
        self.condition, self.g_heads = _conditioning(task, net)
        # pix2pix's discriminator judges (input, output) pairs: the field its `condition` port
        # reads goes beside every real and every generated sample (None: it judges samples alone)
        self.pair_field = self.fields[task.gan_condition] if task.gan_condition is not None else None
        g_ids = {id(p) for p in self.g_net.parameters()}
        d_ids = {id(p) for p in self.d_net.parameters()}
        self.d_params = [p for p in self.d_net.parameters() if p.requires_grad]
        self.g_params = [p for p in self.g_net.parameters() if p.requires_grad]
        self._make_optimizer(_subset(groups, d_ids))
        self._make_optimizer(_subset(groups, g_ids))
        seed = torch.Generator().manual_seed(config.seed + 1)
        self.fixed_noise = torch.randn(64, *self.latent, generator=seed).to(device)
        self._dx = self._dgz = None
        self.loss_names = ["loss", "d_loss", "g_loss", "d_x", "d_g_z"]

    def train_step(self, batch: dict[str, torch.Tensor], n: int) -> torch.Tensor:
        real, cond = self._real(batch), self._condition(batch)
        z = self._generator_input(batch, n)
        with self.autocast():
            fake = self.g_fwd(z)
            # one forward over real and fake together: DDP needs one forward per backward; a
            # PatchGAN scores every patch, so every score counts
            pairs = torch.cat([self._judged(cond, real), self._judged(cond, fake.detach())])
            scores = self.d_fwd(pairs).float().reshape(2 * n, -1)
            d_real, d_fake = scores[:n], scores[n:]
            # One-sided label smoothing (Salimans et al. 2016): real samples are aimed at 0.9, not
            # 1, so the discriminator cannot grow certain on the few real digits and starve the
            # generator of gradient (D(x) stuck at 1, D(G(z)) at 0); fakes stay aimed at 0.
            d_loss = self._bce(d_real, REAL_TARGET) + self._bce(d_fake, 0.0)
        self._update(d_loss, 0, self.d_params)
        with self.autocast():
            g_scores = self.d_fwd(self._judged(cond, fake)).float().reshape(n, -1)
            # pix2pix: adversarial + lambda * L1 (the heads fed by the generator, with their weights)
            g_loss = self._bce(g_scores, 1.0) + self._head_losses(fake, batch)
        self._update(g_loss, 1, self.g_params)
        dx, dgz = self._prob(d_real.detach()).mean(), self._prob(d_fake.detach()).mean()
        return torch.stack([d_loss.detach() + g_loss.detach(), d_loss.detach(), g_loss.detach(), dx, dgz])

    def _real(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The real samples: the field itself, or its one-hot encoding when an Input -> OneHot
        feeds the discriminator (a mask, judged against the generator's per-pixel class scores)."""
        return _as_float(batch[self.real_field], self.task.gan_real_classes)

    def _condition(self, batch: dict[str, torch.Tensor]) -> torch.Tensor | None:
        """What a conditional discriminator sees beside each sample (the mask one-hot, or the
        image), as the graph's Input (-> OneHot) makes it; None for a discriminator of samples."""
        if self.pair_field is None:
            return None
        return _as_float(batch[self.pair_field], self.task.gan_condition_classes)

    @staticmethod
    def _judged(cond: torch.Tensor | None, sample: torch.Tensor) -> torch.Tensor:
        """The discriminator's input: the sample, or concat(condition, sample) along the channels,
        as the generated code's `torch.cat([condition, sample], dim=1)`."""
        return sample if cond is None else torch.cat([cond.to(sample.dtype), sample], dim=1)

    def _bce(self, scores: torch.Tensor, label: float) -> torch.Tensor:
        """The discriminator's loss against an all-`label` target: on logits, or on probabilities
        when its block ends with a Sigmoid and its head says bce_probs (DCGAN as published)."""
        target = torch.full_like(scores, label)
        if self.task.gan_probabilities:
            return bce_on_probabilities(scores, target)
        return F.binary_cross_entropy_with_logits(scores, target)

    def _prob(self, scores: torch.Tensor) -> torch.Tensor:
        return scores if self.task.gan_probabilities else torch.sigmoid(scores)

    def _generator_input(self, batch: dict[str, torch.Tensor], n: int,
                         gen: torch.Generator | None = None) -> torch.Tensor:
        if self.condition is not None:
            return batch[self.condition]
        return torch.randn(n, *self.latent, device=self.device, generator=gen)

    def _head_losses(self, fake: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor | float:
        """The weighted losses of heads fed by the generator's output (pix2pix's L1 term)."""
        total: torch.Tensor | float = 0.0
        for head in self.g_heads:
            total = total + head.weight * head_loss(head, fake, batch[head.target_field])
        return total

    @torch.no_grad()
    def evaluate(self, feeder: Feeder, batch_size: int) -> tuple[dict[str, float], dict[str, float]]:
        """d_loss and g_loss on held-out real samples against fresh fakes (val_loss is their sum;
        g_loss adds the weighted losses of heads fed by the generator, as in training), and those
        heads' metrics (pix2pix mask -> image: mae; image -> mask: miou)."""
        acc = MetricAccumulator(self.g_heads)
        sums: torch.Tensor | None = None
        seen = 0
        gen = torch.Generator(device=self.device).manual_seed(self.config.seed + 2)
        self.g_net.eval()
        self.d_net.eval()
        try:
            for index, batch in feeder.sequential(batch_size):
                real, cond = self._real(batch), self._condition(batch)
                z = self._generator_input(batch, len(index), gen)
                with self.autocast():
                    d_real = self.d_net(self._judged(cond, real)).float().reshape(len(index), -1)
                    fake = self.g_net(z)
                    d_fake = self.d_net(self._judged(cond, fake)).float().reshape(len(index), -1)
                acc.add_outputs({h.node: fake for h in self.g_heads},
                                {h.node: batch[h.target_field] for h in self.g_heads})
                d_loss = self._bce(d_real, 1.0) + self._bce(d_fake, 0.0)
                # the generator's loss as training defines it: pix2pix's L1 term included, so
                # the train and validation curves of g_loss (and loss) measure the same thing
                g_loss = self._bce(d_fake, 1.0) + self._head_losses(fake, batch)
                values = torch.stack([d_loss + g_loss, d_loss, g_loss, self._prob(d_real).mean(),
                                      self._prob(d_fake).mean()]) * len(index)
                sums = values if sums is None else sums + values
                seen += len(index)
            diversity = self._diversity(feeder)
        finally:
            self.g_net.train()
            self.d_net.train()
        if sums is not None:
            acc.add_losses(dict(zip(self.loss_names, (sums / seen).tolist())), seen)
        losses, head_metrics = acc.result()
        metrics = {"d_x": losses.pop("d_x", 0.0), "d_g_z": losses.pop("d_g_z", 0.0), "diversity": diversity,
                   **head_metrics}
        return losses, metrics

    def _diversity(self, feeder: Feeder) -> float:
        """How much the fixed-noise samples differ from one another, against how much real samples
        do (per-pixel standard deviation across samples, averaged): near 1 healthy, near 0 a
        collapse (one image for every noise vector). Read by the designer's GAN Results."""
        noise = self.fixed_noise
        if self.condition is not None:  # as sample_grid: the same held-out conditions
            noise = feeder.batch(torch.arange(min(64, len(feeder))))[self.condition]
        with self.autocast():
            fake = self.g_net(noise).float()
        real = self._real(feeder.batch(torch.arange(min(len(feeder), len(fake)))))
        return float(fake.std(0).mean() / real.std(0).mean().clamp_min(1e-8))

    @torch.no_grad()
    def sample_grid(self, feeder: Feeder) -> tuple[np.ndarray, str] | None:
        """The generator's output for the same 64 noise vectors every epoch; a conditional GAN
        (pix2pix) shows each held-out condition above its true sample and the generator's."""
        if self.condition is not None:
            return self._conditional_grid(feeder)
        self.g_net.eval()
        try:
            noise = self.fixed_noise
            if self.condition is not None:  # the same held-out conditions every epoch
                noise = feeder.batch(torch.arange(min(64, len(feeder))))[self.condition]
            with self.autocast():
                fake = self.g_net(noise).float()
        finally:
            self.g_net.train()
        if self.task.gan_real_classes is not None:  # class scores per pixel: show the predicted masks
            images = grids.masks_to_rgb(fake.argmax(1).cpu().numpy())
        elif not grids.is_image_shape(tuple(fake.shape[1:])):
            return None
        else:
            images = grids.to_rgb(fake.cpu().numpy())
        return grids.tile(images, 8, scale=grids.upscale_for(images.shape[1])), "generated"


    def _conditional_grid(self, feeder: Feeder) -> tuple[np.ndarray, str] | None:
        """Condition, truth and the generator's output, one row each, for the same held-out
        samples every epoch: a painting is judged against its own mask (or a predicted mask
        against the image's true one)."""
        batch = feeder.batch(torch.arange(min(SAMPLE_COUNT, len(feeder))))
        self.g_net.eval()
        try:
            with self.autocast():
                fake = self.g_net(batch[self.condition]).float()
        finally:
            self.g_net.train()
        if self.task.gan_real_classes is not None:  # class scores per pixel: the predicted masks
            fake_rgb = grids.masks_to_rgb(fake.argmax(1).cpu().numpy())
        elif grids.is_image_shape(tuple(fake.shape[1:])):
            fake_rgb = grids.to_rgb(fake.cpu().numpy())
        else:
            return None
        rows = [_picture(batch[self.condition]), _picture(batch[self.real_field]), fake_rgb]
        if len({r.shape[1:] for r in rows}) != 1:
            return None
        images = np.concatenate(rows)
        return grids.tile(images, len(fake_rgb), scale=grids.upscale_for(images.shape[1])), "conditional"


def _picture(value: torch.Tensor) -> np.ndarray:
    """A batch of a data field as RGB pictures: masks (int ids) coloured by class, else images."""
    if not value.is_floating_point():
        return grids.masks_to_rgb(value.cpu().numpy())
    return grids.to_rgb(value.float().cpu().numpy())


def _as_float(value: torch.Tensor, classes: int | None) -> torch.Tensor:
    """A data field as the discriminator takes it: as is, or one-hot over `classes` channels
    (an Input -> OneHot in the graph: indices (H, W) -> (classes, H, W))."""
    if classes is None:
        return value.float()
    return F.one_hot(value.long(), classes).movedim(-1, 1).float()


def _conditioning(task: Task, net: torch.nn.Module) -> tuple[str | None, list]:
    """(the data field the generator reads, or None for noise; heads fed by its output)."""
    facts = getattr(getattr(net, "generated", None), "gan", None) or {}
    ids = list(facts.get("generator_inputs", ()))
    data = [b for b in task.inputs if b.node in ids and not b.noise]
    condition = data[0].field if len(ids) == 1 and data else None
    return condition, [h for h in task.heads if h.node in task.gan_generator_heads]


def _subset(groups: list[dict], ids: set[int]) -> list[dict]:
    """The parameter groups restricted to one sub-network (keeping each group's lr factor)."""
    out = []
    for g in groups:
        params = [p for p in g["params"] if id(p) in ids]
        if params:
            out.append({**g, "params": params})
    return out


def _freeze_the_rest(net: torch.nn.Module, groups: list[dict]) -> list[dict]:
    """Stop computing gradients for parameters no group trains (frozen nodes: transfer learning)."""
    trained = {id(p) for g in groups for p in g["params"]}
    for p in net.parameters():
        if id(p) not in trained:
            p.requires_grad_(False)
    return groups
