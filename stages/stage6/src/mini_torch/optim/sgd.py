"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from mini_torch._checks import check_in_range
from mini_torch.optim.optimizer import Optimizer


class SGD(Optimizer):
    r"""Stochastic gradient descent, with the update rule of ``torch.optim.SGD``.

    For each parameter ``p`` with gradient ``g``, at step ``t``::

        g = g + weight_decay * p                       # if weight_decay != 0
        if momentum != 0:
            b = g                                      # t = 1
            b = momentum * b + (1 - dampening) * g     # t > 1
            g = g + momentum * b   if nesterov   else   b
        p = p - lr * g

    Args:
        modules: the modules to optimise (a list, or one module).
        lr: learning rate (default 0.01).
        momentum: momentum factor (default 0).
        dampening: dampening of the momentum (default 0).
        weight_decay: L2 penalty added to the gradient (default 0).
        nesterov: Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``.

    Each of these is the default of every parameter group, which may set its own (PyTorch's
    ``[{"params": model.head, "lr": 0.1}, ...]``, see :class:`Optimizer`).

    Examples:
        >>> from mini_torch.nn import Linear
        >>> optimizer = SGD(Linear(3, 2), lr=0.1, momentum=0.9)
        >>> optimizer.zero_grad()  # then forward, loss, backward, and optimizer.step()
    """

    option_names = ("momentum", "dampening", "weight_decay", "nesterov")

    def __init__(self, modules, lr: float = 0.01, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False) -> None:
        super().__init__(modules, lr)
        self.momentum = momentum
        self.dampening = dampening
        self.weight_decay = weight_decay
        self.nesterov = nesterov
        self._check_param_groups()

    def _check_options(self, options: dict, where: str) -> None:
        check_in_range(options["momentum"], "momentum", where)
        check_in_range(options["weight_decay"], "weight_decay", where)
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError(
                f"{where}: nesterov=True needs momentum > 0 and dampening = 0, got "
                f"momentum={options['momentum']}, dampening={options['dampening']}."
            )

    def step(self) -> None:
        for group in self.param_groups:  # one group, unless built from PyTorch-style dicts
            lr, momentum = float(group["lr"]), float(group["momentum"])
            dampening, weight_decay = float(group["dampening"]), float(group["weight_decay"])
            nesterov = bool(group["nesterov"])
            for param, grad in self._parameters_and_grads(group["params"]):
                # BEGIN SOLUTION
                if weight_decay != 0:
                    grad = grad + weight_decay * param
                if momentum != 0:
                    state = self._state_for(param)
                    buffer = state.get("momentum_buffer")
                    if buffer is None:
                        buffer = state["momentum_buffer"] = grad.copy()
                    else:
                        buffer *= momentum                      # in place: no new array per step
                        buffer += grad if dampening == 0 else (1.0 - dampening) * grad
                    grad = grad + momentum * buffer if nesterov else buffer
                param -= lr * grad  # in place, so the model sees the update
                # END SOLUTION

    def extra_repr(self) -> str:
        return (f"lr={self.lr}, momentum={self.momentum}, dampening={self.dampening}, "
                f"weight_decay={self.weight_decay}, nesterov={self.nesterov}")
