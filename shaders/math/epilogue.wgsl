// What follows the affine map in the normalize pass, so that no extra pass over memory is
// needed: an activation, and a residual tensor (binding 7, same shape as the input) added
// after or before it. Written once for f32 and vec4f Elements: the builtins are generic.

// 0 none, 1 relu, 2 leakyRelu (slope params.activationAlpha), 3 silu, 4 gelu (tanh form).
override ACTIVATION: u32 = 0u;
// 0 no residual, 1 added after the activation, 2 added before it.
override RESIDUAL: u32 = 0u;

// sqrt(2 / pi), of the tanh form of GELU.
const GELU_SCALE = 0.7978845608028654;

fn activate(v: Element) -> Element {
  let zero = Element(0.0);
  switch ACTIVATION {
    // select, not max: a NaN stays NaN, as in PyTorch, where max may give 0.
    case 1u: {
      return select(v, zero, v < zero);
    }
    case 2u: {
      return select(v, v * params.activationAlpha, v < zero);
    }
    case 3u: {
      // v * sigmoid(v), with exp of a non-positive argument only, so nothing overflows; one
      // division for both signs (a CPU adapter pays for each).
      let e = exp(-abs(v));
      let r = 1.0 / (1.0 + e);
      let sigmoid = select(e * r, r, v >= zero);
      return v * sigmoid;
    }
    case 4u: {
      // Beyond |v| = 10 tanh is ±1 in f32; clamping first keeps v³ finite and tanh in range
      // where some implementations return NaN for large arguments.
      let t = clamp(v, Element(-10.0), Element(10.0));
      return 0.5 * v * (1.0 + tanh(GELU_SCALE * (t + 0.044715 * t * t * t)));
    }
    default: {
      return v;
    }
  }
}

fn epilogue(v: Element, index: u32) -> Element {
  if (RESIDUAL == 2u) {
    return activate(v + loadResidual(index));
  }
  if (RESIDUAL == 1u) {
    return activate(v) + loadResidual(index);
  }
  return activate(v);
}
