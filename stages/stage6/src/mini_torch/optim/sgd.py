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

    Examples:
        >>> from mini_torch.nn import Linear
        >>> optimizer = SGD(Linear(3, 2), lr=0.1, momentum=0.9)
        >>> optimizer.zero_grad()  # then forward, loss, backward, and optimizer.step()
    """

    def __init__(self, modules, lr: float = 0.01, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False) -> None:
        super().__init__(modules, lr)
        check_in_range(momentum, "momentum", type(self).__name__)
        check_in_range(weight_decay, "weight_decay", type(self).__name__)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"SGD: nesterov=True needs momentum > 0 and dampening = 0, got "
                f"momentum={momentum}, dampening={dampening}."
            )
        self.momentum = momentum
        self.dampening = dampening
        self.weight_decay = weight_decay
        self.nesterov = nesterov

    def step(self) -> None:
        lr, momentum = float(self.lr), float(self.momentum)
        dampening, weight_decay = float(self.dampening), float(self.weight_decay)
        for param, grad in self._parameters_and_grads():
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
                grad = grad + momentum * buffer if self.nesterov else buffer
            param -= lr * grad  # in place, so the model sees the update
            # END SOLUTION

    def extra_repr(self) -> str:
        return (f"lr={self.lr}, momentum={self.momentum}, dampening={self.dampening}, "
                f"weight_decay={self.weight_decay}, nesterov={self.nesterov}")
