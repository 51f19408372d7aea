"""`RunningMeanStdModel`: running mean and variance of observations, for normalisation."""

from __future__ import annotations

from collections.abc import Sequence

import torch


class RunningMeanStdModel(torch.nn.Module):
    """Running mean and (population) variance of inputs of shape ``shape``.

    Models that normalise observations own one (``MujocoFfModel(normalize_observation=True)``);
    algorithms feed it each batch of observations through ``agent.update_obs_rms(observation)``
    and models call :meth:`normalize` in their forward pass.

    Statistics are combined across batches with the parallel (Chan et al., 1979) update in
    float64, so long runs do not lose precision. ``mean``, ``var`` (float64) and ``count`` are
    buffers, hence saved in ``state_dict``; float32 copies used by :meth:`normalize` are
    non-persistent buffers refreshed by :meth:`update` and on ``load_state_dict`` (writing to
    ``mean``/``var`` by hand needs :meth:`refresh` afterwards). Before any update the mean is 0
    and the variance 1, so :meth:`normalize` is the identity up to clipping.

    Args:
        shape: shape of one input (e.g. the observation shape).
    """

    def __init__(self, shape: Sequence[int] | int) -> None:
        super().__init__()
        self.shape = (int(shape),) if isinstance(shape, int) else tuple(int(s) for s in shape)
        self.register_buffer("mean", torch.zeros(self.shape, dtype=torch.float64))
        self.register_buffer("var", torch.ones(self.shape, dtype=torch.float64))
        self.register_buffer("count", torch.zeros((), dtype=torch.float64))
        self.register_buffer("mean_f32", torch.zeros(self.shape), persistent=False)
        self.register_buffer("var_f32", torch.ones(self.shape), persistent=False)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self.refresh()  # keep the float32 copies in step with the loaded statistics

    @torch.no_grad()
    def update(self, x: torch.Tensor) -> None:
        """Fold a batch ``x [..., *shape]`` (any leading dims) into the statistics."""
        x = x.reshape((-1,) + self.shape).to(device=self.mean.device, dtype=torch.float64)
        n = x.shape[0]
        if n == 0:
            return
        batch_mean = x.mean(dim=0)
        batch_var = x.var(dim=0, unbiased=False)
        total = self.count + n
        delta = batch_mean - self.mean
        # Chan et al.: M2 = M2_a + M2_b + delta^2 * n_a * n_b / (n_a + n_b).
        m2 = self.var * self.count + batch_var * n + delta.square() * (self.count * n / total)
        self.mean.add_(delta * (n / total))
        self.var.copy_(m2 / total)
        self.count.copy_(total)
        self.refresh()

    @torch.no_grad()
    def refresh(self) -> None:
        """Copy ``mean``/``var`` into the float32 buffers used by :meth:`normalize`."""
        self.mean_f32.copy_(self.mean)
        self.var_f32.copy_(self.var)

    def normalize(
        self, x: torch.Tensor, clip: float | None = None, var_min: float | None = None
    ) -> torch.Tensor:
        """``(x - mean) / sqrt(max(var, var_min))``, clamped to ``[-clip, clip]``; float32."""
        var = self.var_f32 if var_min is None else torch.clamp(self.var_f32, min=var_min)
        out = (x - self.mean_f32) * torch.rsqrt(var)
        if clip is not None:
            out = torch.clamp(out, -clip, clip)
        return out
