"""Probes on any Keras model — Sequential, functional or subclassed — without rebuilding it.

The monitor needs each layer's linear output z (before the activation) and its activated output a,
both on the path from the weights to the loss, so δ = d loss / d z is a real gradient. A subclassed
model has no graph to read them from, so while `ProbedForward` runs the model, each watched layer's
`call` is replaced by one that runs the layer with a linear activation (z) and applies the layer's
own activation afterwards (a). Dense, Conv and EinsumDense apply their activation last, so the
result is the layer's usual output. Layers whose activation sits inside (recurrent layers) give
z = a = their output. Outside a `ProbedForward` call the model is untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import keras

from tfbench.errors import TfbenchError


@dataclass
class LayerProbe:
    """One watched layer. `depth` numbers every watched layer in forward order (docs/design.md §5).
    `shape` is None for a layer without a pre-activation (BatchNormalization, Embedding, ...): its
    δ, dead and saturated columns are NaN."""

    layer: keras.layers.Layer
    depth: int
    activation: str | None  # the activation's name where saturation means something, else None
    shape: tuple | None = ()  # static shape of the activated output, batch axis None

    @property
    def measured(self) -> bool:
        return self.shape is not None


@dataclass
class Probing:
    """The watched layers in forward order, and the layers left out with the reason."""

    probes: list[LayerProbe]
    skipped: dict[str, str] = field(default_factory=dict)
    output_shape: tuple | None = None  # the model's output shape, batch axis None (None: several outputs)

    def note(self) -> str:
        """One line naming the layers not monitored, or '' when every layer is watched."""
        if not self.skipped:
            return ""
        return "not monitored: " + "; ".join(f"{name} ({why})" for name, why in self.skipped.items())


def has_preactivation(layer) -> bool:
    """Layers whose output is a linear map followed by their own activation (Dense, Conv*,
    EinsumDense, ...) and recurrent layers: their output has a δ that means something."""
    return isinstance(layer, keras.layers.RNN) or hasattr(layer, "activation")


def own_weights(layer) -> list:
    """The trainable weights a layer owns itself, not through a nested layer. A recurrent layer owns
    its cell's: the cell runs inside a loop whose tensors cannot leave it."""
    if isinstance(layer, keras.layers.RNN):
        return list(layer.trainable_weights)
    nested = {id(v) for sub in layer._flatten_layers(include_self=False) for v in sub.trainable_weights}
    return [v for v in layer.trainable_weights if id(v) not in nested]


def candidate_layers(model) -> tuple[list, dict[str, str]]:
    """Every layer that owns trainable weights, searched through nested layers and models (the
    projections inside MultiHeadAttention get their own rows), but not into recurrent layers; and
    frozen layers (`trainable=False`) that hold weights, which are skipped. Layers whose weights are
    never trainable (Normalization's mean and variance) are neither."""
    found, skipped = [], {}

    def visit(layer):
        for sub in layer._flatten_layers(include_self=False, recursive=False):
            if own_weights(sub):
                found.append(sub)
            elif not sub.trainable and sub.weights and not sub._flatten_layers(include_self=False):
                skipped[sub.name] = "not trainable"
            if not isinstance(sub, keras.layers.RNN):
                visit(sub)

    visit(model)
    return found, skipped


def split_activation(layer):
    """The layer's own activation when it can be applied separately, else None."""
    if isinstance(layer, keras.layers.RNN):
        return None
    activation = getattr(layer, "activation", None)
    if not callable(activation) or activation is keras.activations.linear:
        return None
    return activation


class ProbedForward:
    """Calls a user's model and returns [outputs, *z, *a] of the watched layers that have a
    pre-activation, in forward order."""

    def __init__(self, model, probes: list[LayerProbe]):
        self.model = model
        self.probes = probes

    def __call__(self, inputs, training=False):
        seen = run_probed(self.model, [p.layer for p in self.probes if p.measured], inputs, training)
        pairs = [seen[id(p.layer)] for p in self.probes if p.measured]
        return [seen["outputs"], *[z for z, _ in pairs], *[a for _, a in pairs]]


def run_probed(model, layers, inputs, training) -> dict:
    """Run `model` with probes on `layers`: {"outputs": y, id(layer): (z, a) of its first call}."""
    seen: dict = {}
    patched = {id(layer): "call" in vars(layer) for layer in layers}  # True: the instance had its own call

    def probed_call(layer, original):
        def call(*args, **kwargs):
            activation = split_activation(layer)
            if not has_preactivation(layer):  # watched for its place in the forward order only
                outputs = original(*args, **kwargs)
                seen.setdefault(id(layer), (None, None))
                return outputs
            if activation is None:
                z = a = original(*args, **kwargs)
            else:
                object.__setattr__(layer, "activation", keras.activations.linear)
                try:
                    z = original(*args, **kwargs)
                finally:
                    object.__setattr__(layer, "activation", activation)
                a = activation(z)
            seen.setdefault(id(layer), (z, a))  # a shared layer is probed at its first call
            return a

        return call

    originals = {id(layer): layer.call for layer in layers}
    try:
        for layer in layers:
            object.__setattr__(layer, "call", probed_call(layer, layer.call))
        seen["outputs"] = model(inputs, training=training)
    finally:
        for layer in layers:
            if patched[id(layer)]:
                object.__setattr__(layer, "call", originals[id(layer)])
            else:
                del layer.__dict__["call"]  # back to the class's method, as before
    return seen


def probe_layers(model, sample, layers=None) -> Probing:
    """Probes for `model`, found by one eager forward pass on `sample` (a batch of inputs).

    `layers`: names of the layers to watch (default: every layer that owns trainable weights).
    """
    if not isinstance(model, keras.Model):
        raise TfbenchError(f"model is a {type(model).__name__}: expected a keras.Model")
    candidates, skipped = candidate_layers(model)
    try:
        seen = run_probed(model, candidates, sample, training=False)
    except Exception as error:  # a model that cannot take the data: one line, not a traceback
        reason = " ".join(str(error).split())[:300] or type(error).__name__
        raise TfbenchError(f"model {model.name!r} cannot run on the data ({reason}): expected its inputs") from None
    called = [layer for layer in candidates if id(layer) in seen]
    order = sorted(called, key=lambda layer: list(seen).index(id(layer)))
    for layer in candidates:
        if id(layer) not in seen:
            skipped[layer.name] = "not called in the forward pass"
    probes = []
    for depth, layer in enumerate(order, start=1):
        activated = seen[id(layer)][1]
        if activated is None:
            probes.append(LayerProbe(layer=layer, depth=depth, activation=None, shape=None))
            continue
        activation = split_activation(layer) or getattr(layer, "activation", None)
        name = getattr(activation, "__name__", None)
        probes.append(LayerProbe(layer=layer, depth=depth, activation=name, shape=(None, *tuple(activated.shape)[1:])))
    measured = [p for p in probes if p.measured]
    if measured:
        measured[-1].activation = None  # the output layer: saturation there is the prediction's confidence
    probes = select(probes, layers, skipped)
    outputs = seen["outputs"]
    output_shape = (None, *tuple(outputs.shape)[1:]) if hasattr(outputs, "shape") else None
    return Probing(probes=probes, skipped=skipped, output_shape=output_shape)


def select(probes: list[LayerProbe], names, skipped: dict) -> list[LayerProbe]:
    if names is None:
        if not probes:
            raise TfbenchError("the model has no layer with trainable weights: nothing to monitor")
        return probes
    if isinstance(names, str):
        names = [names]
    available = [p.layer.name for p in probes]
    unknown = [n for n in names if n not in available]
    if unknown or not names:
        raise TfbenchError(
            f"layers={list(names)!r} names no monitorable layer {unknown or ''}: expected names among {available}"
        )
    for probe in probes:
        if probe.layer.name not in names:
            skipped[probe.layer.name] = "not in layers="
    return [p for p in probes if p.layer.name in names]
