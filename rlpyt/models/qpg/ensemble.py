"""Critic ensembles (TD3's and SAC's twin Q-functions): `QofMuEnsembleMlpModel` evaluates all
members in one batched pass; `SeparateQEnsemble` holds any Q-model class, one instance each.

Both share a small interface, which the Q-function policy-gradient agents use:

- ``ensemble_size``: number of members;
- ``forward(observation, prev_action, prev_reward, action, member=None)``: a tuple of
  ``ensemble_size`` Q-value tensors (leading dims of the input), or member ``member``'s alone;
- ``member(j)``: a module computing member ``j`` as one ``QModelCls`` instance would, whose
  ``state_dict`` / ``load_state_dict`` use that class's layout.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.nn.modules.module import _IncompatibleKeys

from rlpyt.models.mlp import ParallelMlpModel
from rlpyt.models.qpg.mlp import QofMuMlpModel, q_input
from rlpyt.utils.tensor import infer_leading_dims


class QofMuEnsembleMlpModel(torch.nn.Module):
    """``ensemble_size`` independent :class:`QofMuMlpModel` critics fused into batched matmuls.

    Every hidden layer of all members is one ``torch.baddbmm`` over the stacked parameters of
    a :class:`~rlpyt.models.mlp.ParallelMlpModel` (the output unit is a batched dot product on
    the CPU), so a twin critic costs one pass instead of two, forward and backward, with one
    concatenation of the inputs. The members are exactly ``QofMuMlpModel`` networks (same
    layers, same initialisation distribution, no shared weights): ``member(j)`` gives a view
    of member ``j`` with ``QofMuMlpModel``'s ``forward``, ``state_dict`` and
    ``load_state_dict``.

    Parameters are stacked (``mlp.weight{i}`` ``[k, in, out]``, ``mlp.bias{i}`` ``[k, 1, out]``,
    member ``j`` in slice ``j``), so one optimizer over :meth:`parameters` trains all members;
    with an element-wise optimizer such as Adam this is the same as one optimizer per member
    (gradient-norm clipping then spans all members). Target copies (``copy.deepcopy``) update
    with one ``torch._foreach_lerp_`` over the stacked tensors.

    Args:
        observation_shape: shape of one observation (flattened inside).
        hidden_sizes: hidden layer sizes of every member (ReLU).
        action_size: action dimension.
        ensemble_size: number of members ``k``.
    """

    ignores_prev_inputs = True

    def __init__(
        self,
        observation_shape: Sequence[int],
        hidden_sizes: Sequence[int] | int | None,
        action_size: int,
        ensemble_size: int = 2,
    ) -> None:
        super().__init__()
        self._obs_ndim = len(observation_shape)
        self.ensemble_size = int(ensemble_size)
        input_size = int(np.prod(observation_shape)) + int(action_size)
        self.mlp = ParallelMlpModel(input_size, hidden_sizes, [1] * self.ensemble_size)
        # Views are plain attributes (a list is no submodule), so parameters are not listed twice.
        self._member_views = [QofMuMemberView(self, j) for j in range(self.ensemble_size)]

    def forward(
        self,
        observation: torch.Tensor,
        prev_action: torch.Tensor,
        prev_reward: torch.Tensor,
        action: torch.Tensor,
        member: int | None = None,
    ) -> tuple[torch.Tensor, ...] | torch.Tensor:
        """Q-values of all members, or of member ``member`` alone.

        Args:
            observation: ``[..., *observation_shape]`` with leading dims ``[]``, ``[B]`` or
                ``[T, B]``.
            action: ``[..., action_size]``, same leading dims.
            member: index of the one member to evaluate (only its weights are used), or
                ``None`` for all.

        Returns:
            A tuple of ``ensemble_size`` tensors ``q [...]`` (views of one stacked tensor), or
            one ``q [...]`` when ``member`` is given.
        """
        lead_dim, T, B, _ = infer_leading_dims(observation, self._obs_ndim)
        lead_shape = observation.shape[:lead_dim]
        x = q_input(observation, action, T * B)
        if member is not None:
            return self._member_forward(x, member).view(lead_shape)
        q = self._stacked_forward(x)  # [k, T * B]
        return q.view((self.ensemble_size,) + tuple(lead_shape)).unbind(0)

    def _stacked_forward(self, x: torch.Tensor) -> torch.Tensor:
        """All members on ``x [N, in]`` -> ``[k, N]``: one ``baddbmm`` per hidden layer."""
        weights, biases = self.mlp.weights, self.mlp.biases
        h = x.expand(self.ensemble_size, *x.shape)
        for w, b in zip(weights[:-1], biases[:-1]):
            # In place: baddbmm's backward does not need its output, ReLU's needs only this.
            h = torch.baddbmm(b, h, w).relu_()
        w, b = weights[-1], biases[-1]
        if h.device.type == "cpu":
            # One output unit: on the CPU a bmm with one output column costs ~4x (forward)
            # and ~2x (forward and backward) a batched dot product; on GPUs the single
            # baddbmm kernel is kept (fewer launches).
            # (The weight as a [k, 1, H] row through squeeze/unsqueeze, not a transpose, so its
            # gradient gets the parameter's own contiguous layout.)
            return torch.linalg.vecdot(h, w.squeeze(-1).unsqueeze(1)) + b[:, :, 0]
        return torch.baddbmm(b, h, w).squeeze(-1)

    def _member_forward(self, x: torch.Tensor, j: int) -> torch.Tensor:
        """Member ``j`` on ``x [N, in]`` -> ``[N, 1]``, from slices of the stacked weights."""
        weights, biases = self.mlp.weights, self.mlp.biases
        h = x
        for w, b in zip(weights[:-1], biases[:-1]):
            h = torch.addmm(b[j], h, w[j]).relu_()
        return torch.addmm(biases[-1][j], h, weights[-1][j])

    def member(self, j: int) -> QofMuMemberView:
        """Member ``j`` as a ``QofMuMlpModel``-like view (shares this model's parameters)."""
        return self._member_views[j]


class QofMuMemberView(torch.nn.Module):
    """One member of a :class:`QofMuEnsembleMlpModel`, presented as a :class:`QofMuMlpModel`.

    ``forward`` computes that member only (from slices of the stacked weights, gradients flow
    into them); ``state_dict`` returns *copies* of the member's weights in
    ``QofMuMlpModel``'s layout (``mlp.model.{2i}.weight [out, in]``, ``mlp.model.{2i}.bias
    [out]``), and ``load_state_dict`` writes such a dict into the member's slices, so
    snapshots are interchangeable with separate ``QofMuMlpModel`` instances. The view owns no
    parameters: :meth:`parameters` raises, because slices of a stacked tensor cannot be given
    to an optimizer (optimize the ensemble's parameters instead); devices and dtypes follow
    the ensemble.
    """

    def __init__(self, ensemble: QofMuEnsembleMlpModel, index: int) -> None:
        super().__init__()
        object.__setattr__(self, "_ensemble", ensemble)  # not a submodule: no parameters
        self.index = int(index)

    @property
    def ensemble(self) -> QofMuEnsembleMlpModel:
        return self._ensemble

    def forward(self, observation, prev_action, prev_reward, action) -> torch.Tensor:
        """``q [...]`` of this member (as ``QofMuMlpModel.forward``)."""
        return self._ensemble(observation, prev_action, prev_reward, action, member=self.index)

    def _layers(self) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
        """``(key prefix, weight [in, out], bias [out])`` of each layer of this member."""
        mlp, j = self._ensemble.mlp, self.index
        return [
            (f"mlp.model.{2 * i}.", w[j], b[j, 0])
            for i, (w, b) in enumerate(zip(mlp.weights, mlp.biases))
        ]

    def state_dict(self, *args: Any, destination=None, prefix: str = "", keep_vars: bool = False):
        """This member's parameters in ``QofMuMlpModel``'s layout (copies)."""
        out = OrderedDict() if destination is None else destination
        for name, w, b in self._layers():
            w = w.t()
            if not keep_vars:  # compact copies: a view would save the whole stacked storage
                w = w.detach().clone(memory_format=torch.contiguous_format)
                b = b.detach().clone(memory_format=torch.contiguous_format)
            out[prefix + name + "weight"] = w
            out[prefix + name + "bias"] = b
        return out

    def load_state_dict(self, state_dict: Mapping[str, torch.Tensor], strict: bool = True, **_):
        """Copy a ``QofMuMlpModel`` state dict into this member's slices.

        Raises:
            RuntimeError: for missing or unexpected keys (``strict``) or mismatched shapes.
        """
        layers = self._layers()
        expected = [name + kind for name, _, _ in layers for kind in ("weight", "bias")]
        missing = [k for k in expected if k not in state_dict]
        unexpected = [k for k in state_dict if k not in expected]
        if strict and (missing or unexpected):
            raise RuntimeError(
                f"QofMuMemberView.load_state_dict: missing keys {missing}, unexpected keys "
                f"{unexpected} (expected a QofMuMlpModel state dict)"
            )
        with torch.no_grad():
            for name, w, b in layers:
                for key, dst in ((name + "weight", w.t()), (name + "bias", b)):
                    if key not in state_dict:
                        continue
                    src = state_dict[key]
                    if tuple(src.shape) != tuple(dst.shape):
                        raise RuntimeError(
                            f"QofMuMemberView.load_state_dict: {key} has shape "
                            f"{tuple(src.shape)}, the member has {tuple(dst.shape)}"
                        )
                    dst.copy_(src)
        return _IncompatibleKeys(missing, unexpected)

    def parameters(self, recurse: bool = True):
        raise RuntimeError(
            "a member of a fused QofMuEnsembleMlpModel has no parameters of its own (they are "
            "slices of the stacked ensemble parameters); optimize the ensemble's parameters, "
            "e.g. agent.q_parameters()"
        )

    def named_parameters(self, *args: Any, **kwargs: Any):
        return self.parameters()

    def extra_repr(self) -> str:
        return f"member {self.index} of {self._ensemble.ensemble_size}"


class SeparateQEnsemble(torch.nn.Module):
    """Several Q-models of any class, evaluated one after the other.

    The fallback of :func:`make_q_ensemble` for Q-model classes that have no fused form;
    ``member(j)`` is the ``j``-th model itself.

    Args:
        models: the members, each called ``model(observation, prev_action, prev_reward,
            action) -> q``.
    """

    def __init__(self, models: Sequence[torch.nn.Module]) -> None:
        super().__init__()
        self.members = torch.nn.ModuleList(models)
        self.ensemble_size = len(self.members)

    def forward(self, observation, prev_action, prev_reward, action, member: int | None = None):
        """A tuple of each member's ``q``, or member ``member``'s alone."""
        if member is not None:
            return self.members[member](observation, prev_action, prev_reward, action)
        return tuple(m(observation, prev_action, prev_reward, action) for m in self.members)

    def member(self, j: int) -> torch.nn.Module:
        return self.members[j]


def make_q_ensemble(
    QModelCls: type[torch.nn.Module], ensemble_size: int, **model_kwargs: Any
) -> QofMuEnsembleMlpModel | SeparateQEnsemble:
    """``ensemble_size`` critics of class ``QModelCls``, fused where that class has a fused
    form (exactly :class:`QofMuMlpModel`, with two or more members), else separate instances.

    Args:
        QModelCls: the critic class.
        ensemble_size: number of critics.
        model_kwargs: keyword arguments of ``QModelCls`` (e.g. ``observation_shape``,
            ``hidden_sizes``, ``action_size``).
    """
    if QModelCls is QofMuMlpModel and ensemble_size > 1:
        return QofMuEnsembleMlpModel(ensemble_size=ensemble_size, **model_kwargs)
    return SeparateQEnsemble([QModelCls(**model_kwargs) for _ in range(ensemble_size)])
