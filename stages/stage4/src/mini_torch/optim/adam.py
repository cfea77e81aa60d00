"""Adam and AdamW: adaptive moment estimation, with coupled (L2) or decoupled weight decay."""

from __future__ import annotations

import numpy as np

from mini_torch._checks import check_in_range
from mini_torch.optim.optimizer import Optimizer


class Adam(Optimizer):
    r"""Adam, with the update rule of ``torch.optim.Adam`` (and, through one flag, of ``AdamW``).

    For each parameter ``p`` with gradient ``g``, at step ``t = 1, 2, ...``::

        if weight_decay != 0:
            if decoupled_weight_decay:               # AdamW
                p = p - lr * weight_decay * p        #   shrink the parameter itself
            else:                                    # Adam
                g = g + weight_decay * p             #   an L2 penalty, through the gradient
        m = beta1 * m + (1 - beta1) * g              # first moment
        v = beta2 * v + (1 - beta2) * g^2            # second moment
        m_hat = m / (1 - beta1^t)                    # bias corrections
        if amsgrad:
            v_max = max(v_max, v)
            v_hat = v_max / (1 - beta2^t)
        else:
            v_hat = v / (1 - beta2^t)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)

    The only difference between Adam and AdamW is the branch on ``decoupled_weight_decay``: Adam's
    decay enters the moments (and so is rescaled by ``1 / sqrt(v_hat)``), AdamW's does not.

    Args:
        modules: the modules to optimise (a list, or one module).
        lr: learning rate (default 1e-3).
        betas: ``(beta1, beta2)``, decay rates of the two moments (default ``(0.9, 0.999)``).
        eps: added to the denominator (default 1e-8).
        weight_decay: L2 penalty added to the gradient (default 0).
        amsgrad: use the running maximum of the second moment (default False).

    Each of these is the default of every parameter group, which may set its own (PyTorch's
    ``[{"params": decay_modules, "weight_decay": 0.1}, ...]``, see :class:`Optimizer`).
    """

    #: False: weight decay is an L2 penalty added to the gradient (Adam); True: AdamW.
    decoupled_weight_decay = False

    option_names = ("betas", "eps", "weight_decay", "amsgrad")

    def __init__(self, modules, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False) -> None:
        super().__init__(modules, lr)
        self.betas = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.amsgrad = amsgrad
        self._check_param_groups()

    def _check_options(self, options: dict, where: str) -> None:
        betas = options["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{where}: betas must be a pair, got {betas!r}.")
        check_in_range(betas[0], "beta1 (betas[0])", where, 0.0, 1.0, high_inclusive=False)
        check_in_range(betas[1], "beta2 (betas[1])", where, 0.0, 1.0, high_inclusive=False)
        check_in_range(options["eps"], "eps", where)
        check_in_range(options["weight_decay"], "weight_decay", where)

    def step(self) -> None:
        for group in self.param_groups:  # one group, unless built from PyTorch-style dicts
            lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), \
                float(group["weight_decay"])
            beta1, beta2 = float(group["betas"][0]), float(group["betas"][1])
            amsgrad = bool(group["amsgrad"])
            for param, grad in self._parameters_and_grads(group["params"]):
                state = self._state_for(param)
                if "step" not in state:
                    state["step"] = 0
                    state["exp_avg"] = np.zeros_like(param)
                    state["exp_avg_sq"] = np.zeros_like(param)
                    if amsgrad:
                        state["max_exp_avg_sq"] = np.zeros_like(param)
                state["step"] += 1
                t = state["step"]
                # BEGIN SOLUTION
                if weight_decay != 0:
                    if self.decoupled_weight_decay:
                        param *= 1.0 - lr * weight_decay  # AdamW: decay the parameter directly
                    else:
                        grad = grad + weight_decay * param  # Adam: L2 penalty, via the moments
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m *= beta1                      # the moments are updated in place
                m += (1.0 - beta1) * grad
                v *= beta2
                v += (1.0 - beta2) * grad * grad
                if amsgrad:
                    np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
                    v = state["max_exp_avg_sq"]
                # the bias corrections m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t)
                # divide by scalars, so they are applied to the step size and to sqrt(v): the
                # same update with no m_hat or v_hat array (as torch.optim.Adam computes it)
                step_size = lr / (1.0 - beta1**t)                      # lr * m_hat = step_size * m
                denom = np.sqrt(v) / (1.0 - beta2**t) ** 0.5 + eps     # sqrt(v_hat) + eps
                param -= step_size * m / denom
                # END SOLUTION

    def extra_repr(self) -> str:
        return (f"lr={self.lr}, betas={self.betas}, eps={self.eps}, "
                f"weight_decay={self.weight_decay}, amsgrad={self.amsgrad}")


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay, as ``torch.optim.AdamW``.

    The same algorithm as :class:`Adam` with ``decoupled_weight_decay = True``: the decay shrinks
    the parameter (``p = p - lr * weight_decay * p``) instead of entering the gradient and the
    moments.

    Args:
        The same as :class:`Adam`, but ``weight_decay`` defaults to 1e-2.
    """

    decoupled_weight_decay = True

    def __init__(self, modules, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False) -> None:
        super().__init__(modules, lr, betas, eps, weight_decay, amsgrad)
