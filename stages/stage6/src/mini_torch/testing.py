"""Numerical gradient checking by central differences, for functions and for modules.

The derivative of a scalar ``L`` with respect to one entry ``v_i`` of an input is estimated as

    dL/dv_i ~= (L(v_i + eps) - L(v_i - eps)) / (2 eps)

whose error shrinks like ``eps^2``. Every estimate is made in float64: in float32 the rounding of
``L`` (about 1e-7 relative) divided by ``2 eps`` would swamp the derivative.

The analytic gradient ``a`` (from a backward) and the numerical one ``n`` are compared entry by
entry with a relative error that has a floor, so entries that are both nearly zero do not divide
by zero:

    err_i = |a_i - n_i| / max(|a_i|, |n_i|, floor)

Two forms, one function:

* ``gradcheck(forward, backward, inputs)`` checks a pair of functions. If ``forward(*inputs)``
  returns an array ``y``, the checked scalar is ``L = sum(y * G)`` for a fixed random ``G`` and the
  backward is called as ``backward(G, *inputs)``. If ``forward`` returns a scalar (a loss), ``L``
  is that scalar and the backward is called as ``backward(*inputs)``.
* ``gradcheck(module, x)`` checks, duck-typed, any object with ``forward``, ``backward``,
  ``parameters()`` and ``grads()``: the gradient with respect to ``x`` and to every parameter.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["GradcheckError", "gradcheck", "numerical_gradient"]

_FLOOR = 1e-3


class GradcheckError(AssertionError):
    """Raised when an analytic gradient disagrees with its numerical estimate."""


def numerical_gradient(scalar_fn: Callable[[], float], array: np.ndarray,
                       eps: float = 1e-6) -> np.ndarray:
    """Central-difference estimate of ``d scalar_fn() / d array``, perturbing ``array`` in place.

    ``scalar_fn`` takes no arguments and must read ``array`` (the very object) when called; each
    entry is restored after it has been perturbed.

    Shape:
        Output: same shape as ``array`` (float64).
    """
    grad = np.zeros(array.shape, dtype=np.float64)
    flat = array.reshape(-1)  # a view: writing to it perturbs ``array`` itself
    if not np.shares_memory(flat, array):
        raise ValueError("numerical_gradient: array must be contiguous so it can be perturbed.")
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + eps
        plus = float(scalar_fn())
        flat[i] = original - eps
        minus = float(scalar_fn())
        flat[i] = original
        grad.flat[i] = (plus - minus) / (2.0 * eps)
    return grad


def _compare(analytic, numeric: np.ndarray, what: str, op_name: str, tol: float) -> None:
    """Raise :class:`GradcheckError` with a readable message if the two gradients differ."""
    if analytic is None:
        raise GradcheckError(
            f"gradcheck({op_name}): the backward returned no gradient for {what}."
        )
    analytic = np.asarray(analytic, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise GradcheckError(
            f"gradcheck({op_name}): the gradient for {what} has shape {analytic.shape}, but "
            f"{what} has shape {numeric.shape}; a gradient has the shape of what it differentiates."
        )
    if not np.all(np.isfinite(analytic)):
        raise GradcheckError(
            f"gradcheck({op_name}): the gradient for {what} has NaN or inf entries."
        )
    if analytic.size == 0:
        return
    errors = np.abs(analytic - numeric) / np.maximum(
        np.maximum(np.abs(analytic), np.abs(numeric)), _FLOOR)
    worst = np.unravel_index(int(np.argmax(errors)), errors.shape)
    if errors[worst] > tol:
        hint = ""
        nonzero = np.abs(numeric) > _FLOOR
        if nonzero.any():
            ratios = analytic[nonzero] / numeric[nonzero]
            spurious = int(np.count_nonzero(~nonzero & (np.abs(analytic) > _FLOOR)))
            if np.allclose(ratios, 1.0, rtol=1e-3) and spurious:
                hint = (f" The two agree wherever the numerical gradient is nonzero, but the "
                        f"analytic one is nonzero at {spurious} entries where the numerical one "
                        f"is zero: a missing mask or condition?")
            elif np.allclose(ratios, ratios[0], rtol=1e-3):
                hint = (f" Analytic / numerical is {ratios[0]:.4g} everywhere: "
                        f"a constant factor is off.")
        raise GradcheckError(
            f"gradcheck({op_name}): the gradient with respect to {what} is wrong. "
            f"Max relative error {errors[worst]:.3e} (tolerance {tol:.0e}) at index "
            f"{tuple(int(i) for i in worst)}: analytic {analytic[worst]:.6g}, "
            f"numerical {numeric[worst]:.6g}.{hint}"
        )


def _input_names(forward: Callable, count: int) -> list[str]:
    try:
        params = [p.name for p in inspect.signature(forward).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    if len(params) >= count:
        return params[:count]
    return [f"input {i}" for i in range(count)]


def _is_module(obj) -> bool:
    return all(callable(getattr(obj, name, None))
               for name in ("forward", "backward", "parameters", "grads"))


def gradcheck(forward, backward=None, inputs: Sequence | None = None, *,
              name: str | None = None, eps: float = 1e-6, tol: float = 1e-5,
              seed: int = 0) -> bool:
    """Check analytic gradients against central differences; raise if they disagree.

    Args:
        forward: a function of the inputs, or a module-like object (then ``backward`` is the
            input batch ``x`` and ``inputs`` is left out: ``gradcheck(module, x)``).
        backward: the matching backward function (function form).
        inputs: the forward's positional inputs; floating ones are copied to float64.
        name: the name used in messages (default: the function's or the class's name).
        eps: finite-difference step.
        tol: largest accepted relative error.
        seed: seed of the random ``grad_output``.

    Returns:
        ``True`` when every gradient matches.

    Raises:
        GradcheckError: naming the op, the input or parameter, the error, the index and both values.

    Examples:
        >>> import numpy as np
        >>> from mini_torch import functional as F
        >>> rng = np.random.default_rng(0)
        >>> x, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=(1, 2))
        >>> gradcheck(F.linear, lambda g, x, W, b: F.linear_backward(g, x, W), (x, W, b))
        True
    """
    rng = np.random.default_rng(seed)
    if _is_module(forward) and inputs is None:
        return _gradcheck_module(forward, backward, name or type(forward).__name__, eps, tol, rng)
    if backward is None or inputs is None:
        raise TypeError(
            "gradcheck: use gradcheck(forward, backward, inputs) for functions or "
            "gradcheck(module, x) for an object with forward/backward/parameters/grads."
        )
    op_name = name or getattr(forward, "__name__", "forward")
    values = [np.array(v, dtype=np.float64) if np.issubdtype(np.asarray(v).dtype, np.floating)
              else np.asarray(v) for v in inputs]
    names = _input_names(forward, len(values))

    output = forward(*values)
    if np.ndim(output) == 0:
        analytic = backward(*values)

        def scalar() -> float:
            return float(forward(*values))
    else:
        grad_output = rng.standard_normal(np.shape(output))
        analytic = backward(grad_output, *values)

        def scalar() -> float:
            return float(np.sum(np.asarray(forward(*values), dtype=np.float64) * grad_output))

    if not isinstance(analytic, (tuple, list)):
        analytic = (analytic,)
    if len(analytic) != len(values):
        raise GradcheckError(
            f"gradcheck({op_name}): the backward returned {len(analytic)} gradient(s) for "
            f"{len(values)} input(s) ({', '.join(names)}); return one per input (None for inputs "
            f"without a gradient, such as targets)."
        )
    for value, grad, input_name in zip(values, analytic, names):
        if grad is None or not np.issubdtype(value.dtype, np.floating):
            continue
        _compare(grad, numerical_gradient(scalar, value, eps), f"'{input_name}'", op_name, tol)
    return True


def _parameter_names(module) -> list[str]:
    named = getattr(module, "named_parameters", None)
    if callable(named):
        return [n for n, _ in named()]
    return [f"parameters()[{i}]" for i in range(len(module.parameters()))]


def _gradcheck_module(module, x, op_name: str, eps: float, tol: float,
                      rng: np.random.Generator) -> bool:
    parameters = list(module.parameters())
    for index, param in enumerate(parameters):
        if param.dtype != np.float64:
            raise TypeError(
                f"gradcheck({op_name}): parameters()[{index}] is {param.dtype}; numerical "
                f"gradients need float64. Build the module inside "
                f"`with mini_torch.default_dtype(np.float64):`."
            )
    x = np.array(x, dtype=np.float64)

    # Gradients accumulate, so start from zero: through zero_grad() when the module has one.
    if callable(getattr(module, "zero_grad", None)):
        module.zero_grad()
    else:
        for grad in module.grads():
            if grad is not None:
                grad[...] = 0.0

    output = module.forward(x)
    grad_output = rng.standard_normal(np.shape(output))
    grad_x = module.backward(grad_output)
    grads = [None if g is None else np.array(g, dtype=np.float64) for g in module.grads()]
    if len(grads) != len(parameters):
        raise GradcheckError(
            f"gradcheck({op_name}): parameters() has {len(parameters)} entries but grads() has "
            f"{len(grads)}; they must be aligned one to one."
        )

    def scalar() -> float:
        return float(np.sum(np.asarray(module.forward(x), dtype=np.float64) * grad_output))

    _compare(grad_x, numerical_gradient(scalar, x, eps), "the input x", op_name, tol)
    for param, grad, param_name in zip(parameters, grads, _parameter_names(module)):
        _compare(grad, numerical_gradient(scalar, param, eps), f"parameter '{param_name}'",
                 op_name, tol)
    return True
