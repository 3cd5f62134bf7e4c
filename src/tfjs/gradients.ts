import * as tf from '@tensorflow/tfjs-core';
import type { Activation, Layout } from '../index.js';
import { ADAIN_KERNEL, INSTANCE_NORM_GRAD_KERNEL, INSTANCE_NORM_KERNEL } from './kernels.js';
import {
  ADAIN_INPUTS,
  type BackwardAttrs,
  channelsOf,
  type ForwardAttrs,
  NORMALIZATION_INPUTS,
  withPlaceholders,
} from './options.js';

// The gradients of the forward kernels. The library's backward (the INSTANCE_NORM_GRAD_KERNEL,
// on the GPU under 'webgpu') covers the normalization and its affine map with a per-channel or
// per-instance scale; the rest is composed around it in TF.js ops:
//   - an activation: the pre-activation u is computed again (the forward kernel without the
//     activation, with the residual where it was added before it), and dL/du = dL/dy · act'(u);
//   - a residual: dL/dr is dL/dy (added after the activation) or dL/du (before);
//   - GroupNorm: dL/dx̂ = dL/dz · γ is formed in TF.js, and the backward runs without affine on
//     a view of the tensor with one group per instance ([N, G, C/G · spatial], channels-first;
//     channels-last tensors are transposed to it and back); dL/dγ = Σ dL/dz · x̂, dL/dβ = Σ dL/dz
//     with x̂ from the forward kernel without affine;
//   - AdaIN: the content's gradient is the backward with the style's per-instance σ as scale;
//     the style's follows from dL/dμ and dL/dσ, which that backward also returns:
//     dL/ds = (dL/dμ + dL/dσ · (s − μ) / root) / count, root = σ = sqrt(var + ε), or sqrt(var)
//     where σ = sqrt(var) + ε (epsilonPlacement 'std').

type Saved = tf.Tensor[];

/** dL/du from dL/dy and u, the activation's input. */
function activationGradient(activation: Activation, alpha: number, u: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  switch (activation) {
    case 'none':
      return dy;
    case 'relu':
      return tf.mul(dy, tf.step(u));
    case 'leakyRelu':
      return tf.where(tf.greater(u, 0), dy, tf.mul(dy, alpha));
    case 'silu': {
      const s = tf.sigmoid(u);
      return tf.mul(dy, tf.mul(s, tf.add(1, tf.mul(u, tf.sub(1, s)))));
    }
    case 'gelu': {
      // y = u/2 · (1 + tanh(k (u + c u³))): y' = (1 + t)/2 + u/2 · (1 − t²) · k (1 + 3c u²)
      const k = Math.sqrt(2 / Math.PI);
      const c = 0.044715;
      const u2 = tf.square(u);
      const t = tf.tanh(tf.mul(k, tf.mul(u, tf.add(1, tf.mul(c, u2)))));
      const inner = tf.mul(tf.mul(0.5 * k, u), tf.mul(tf.sub(1, tf.square(t)), tf.add(1, tf.mul(3 * c, u2))));
      return tf.mul(dy, tf.add(tf.mul(0.5, tf.add(1, t)), inner));
    }
  }
}

/**
 * dL/dz (z: the affine map's output) and dL/dr from dL/dy. `preActivation` computes the
 * activation's input, once needed.
 */
function throughEpilogue(
  a: Pick<ForwardAttrs, 'activation' | 'activationAlpha' | 'residualPosition'>,
  dy: tf.Tensor,
  preActivation: (withResidual: boolean) => tf.Tensor,
): { dz: tf.Tensor; dr: tf.Tensor } {
  if (a.activation === 'none') return { dz: dy, dr: dy };
  const before = a.residualPosition === 'before-activation';
  const du = activationGradient(a.activation, a.activationAlpha, preActivation(before), dy);
  return { dz: du, dr: before ? du : dy };
}

/** The shape a per-channel ([C]) or per-instance ([N, C]) parameter broadcasts in against x. */
function broadcastShape(xShape: readonly number[], layout: Layout, perInstance: boolean): number[] {
  const c = channelsOf(xShape, layout);
  const ones = new Array(xShape.length - 2).fill(1);
  const n = perInstance ? xShape[0] : 1;
  return layout === 'nhwc' ? [n, ...ones, c] : [n, c, ...ones];
}

/** The axes summed to give a per-channel (or per-instance) parameter's gradient. */
function parameterAxes(rank: number, layout: Layout, perInstance: boolean): number[] {
  const channelAxis = layout === 'nhwc' ? rank - 1 : 1;
  return [...Array(rank).keys()].filter((axis) => axis !== channelAxis && !(perInstance && axis === 0));
}

/** x viewed with one group per instance: [N, G, C/G · spatial], channels-first. */
function groupView(t: tf.Tensor, layout: Layout, groups: number): tf.Tensor {
  const n = t.shape[0];
  if (layout === 'nchw') return tf.reshape(t, [n, groups, -1]);
  const c = t.shape[t.rank - 1];
  return tf.reshape(tf.transpose(tf.reshape(t, [n, -1, groups, c / groups]), [0, 2, 1, 3]), [n, groups, -1]);
}

function fromGroupView(v: tf.Tensor, shape: number[], layout: Layout, groups: number): tf.Tensor {
  if (layout === 'nchw') return tf.reshape(v, shape);
  const n = shape[0];
  const c = shape[shape.length - 1];
  return tf.reshape(tf.transpose(tf.reshape(v, [n, groups, -1, c / groups]), [0, 2, 1, 3]), shape);
}

function backward(
  dy: tf.Tensor,
  x: tf.Tensor,
  scale: tf.Tensor | undefined,
  bias: tf.Tensor | undefined,
  attrs: BackwardAttrs,
): tf.Tensor[] {
  const inputs: tf.NamedTensorMap = { dy, x };
  // Per instance, both parameters (stand-ins for an absent one), so that both gradients are N × C.
  const perInstance = attrs.perInstanceAffine && attrs.affine;
  const k = [x.shape[0], channelsOf(x.shape, attrs.layout)];
  if (scale || perInstance) inputs.scale = scale ?? tf.ones(k);
  if (bias || perInstance) inputs.bias = bias ?? tf.zeros(k);
  return tf.engine().runKernel(INSTANCE_NORM_GRAD_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
}

// Placeholders made in a gradient are disposed with the rest at the end of TF.js's backward pass.
function forward(inputs: Record<string, tf.Tensor | undefined>, attrs: ForwardAttrs): tf.Tensor {
  return tf
    .engine()
    .runKernel(INSTANCE_NORM_KERNEL, withPlaceholders(inputs, []), attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/**
 * The gradients of every input, computed at once when TF.js asks for them (as its own
 * multi-input gradients do): TF.js calls each input's function in a tidy of its own, which would
 * dispose what a first call had computed for the others. What is computed here lives until the
 * end of TF.js's backward pass.
 */
function allAtOnce(
  compute: () => Record<string, tf.Tensor>,
  names: readonly string[],
  saved: Saved,
): Record<string, () => tf.Tensor> {
  const result = compute();
  // A placeholder of an absent input gets a zero gradient of its own shape.
  return Object.fromEntries(names.map((name, i) => [name, () => result[name] ?? tf.zerosLike(saved[i])]));
}

function normalizationGradient(dy: tf.Tensor, saved: Saved, a: ForwardAttrs): Record<string, () => tf.Tensor> {
  const x = saved[0];
  const scale = a.hasScale ? saved[1] : undefined;
  const bias = a.hasBias ? saved[2] : undefined;
  const residual = a.hasResidual ? saved[3] : undefined;
  const affine = a.hasScale || a.hasBias;
  const c = channelsOf(x.shape, a.layout);
  return allAtOnce(
    () => {
      const { dz, dr } = throughEpilogue(a, dy, (withResidual) => {
        const r = withResidual ? residual : undefined;
        return forward({ x, scale, bias, residual: r }, { ...a, activation: 'none', hasResidual: r !== undefined });
      });
      const grads: Record<string, tf.Tensor> = {};
      if (residual) grads.residual = dr;
      const parameterShape = a.perInstanceAffine ? [x.shape[0], c] : [c];
      if (!a.groups || a.groups === c) {
        const [dx, dAffine] = backward(dz, x, scale, bias, {
          layout: a.layout,
          epsilon: a.epsilon,
          epsilonPlacement: a.epsilonPlacement,
          affine,
          perInstanceAffine: a.perInstanceAffine,
        });
        grads.x = dx;
        if (scale) grads.scale = tf.reshape(tf.slice(dAffine, [0, 0], [1, -1]), parameterShape);
        if (bias) grads.bias = tf.reshape(tf.slice(dAffine, [1, 0], [1, -1]), parameterShape);
        return grads;
      }
      const groups = a.groups;
      const dxHat = scale ? tf.mul(dz, tf.reshape(scale, broadcastShape(x.shape, a.layout, a.perInstanceAffine))) : dz;
      const [dxView] = backward(groupView(dxHat, a.layout, groups), groupView(x, a.layout, groups), undefined, undefined, {
        layout: 'nchw',
        epsilon: a.epsilon,
        epsilonPlacement: a.epsilonPlacement,
        affine: false,
        perInstanceAffine: false,
      });
      grads.x = fromGroupView(dxView, x.shape, a.layout, groups);
      const axes = parameterAxes(x.rank, a.layout, a.perInstanceAffine);
      if (scale) {
        const xHat = forward(
          { x },
          { ...a, activation: 'none', hasScale: false, hasBias: false, hasResidual: false, perInstanceAffine: false },
        );
        grads.scale = tf.reshape(tf.sum(tf.mul(dz, xHat), axes), parameterShape);
      }
      if (bias) grads.bias = tf.reshape(tf.sum(dz, axes), parameterShape);
      return grads;
    },
    NORMALIZATION_INPUTS,
    saved,
  );
}

function adaInGradient(dy: tf.Tensor, saved: Saved, a: ForwardAttrs): Record<string, () => tf.Tensor> {
  const [content, style] = saved;
  const residual = a.hasResidual ? saved[2] : undefined;
  return allAtOnce(
    () => {
      const { dz, dr } = throughEpilogue(a, dy, (withResidual) => {
        const r = withResidual ? residual : undefined;
        return tf.engine().runKernel(ADAIN_KERNEL, withPlaceholders({ content, style, residual: r }, []), {
          ...a,
          activation: 'none',
          hasResidual: r !== undefined,
        } as unknown as tf.NamedAttrMap) as tf.Tensor;
      });
      const n = content.shape[0];
      const c = channelsOf(content.shape, a.layout);
      const spatialAxes =
        a.layout === 'nhwc'
          ? [...Array(style.rank - 2).keys()].map((i) => i + 1)
          : [...Array(style.rank - 2).keys()].map((i) => i + 2);
      const moments = tf.moments(style, spatialAxes); // [Ns, C]
      // σ: the style's spread; dσ/ds = (s − μ) / (count · root), root = σ for sqrt(var + ε) and
      // sqrt(var) for sqrt(var) + ε (where that is 0, every s − μ is 0 and so is the term).
      const outside = a.epsilonPlacement === 'std';
      const root = outside ? tf.sqrt(moments.variance) : tf.sqrt(tf.add(moments.variance, a.epsilon));
      const sigma = outside ? tf.add(root, a.epsilon) : root;
      const perContent = (t: tf.Tensor) => (style.shape[0] === n ? t : tf.tile(t, [n, 1]));
      const [dContent, dAffine] = backward(dz, content, perContent(sigma), perContent(moments.mean), {
        layout: a.layout,
        epsilon: a.epsilon,
        epsilonPlacement: a.epsilonPlacement,
        affine: true,
        perInstanceAffine: true,
      });
      let dSigma = tf.reshape(tf.slice(dAffine, [0, 0], [1, -1]), [n, c]);
      let dMu = tf.reshape(tf.slice(dAffine, [1, 0], [1, -1]), [n, c]);
      if (style.shape[0] !== n) {
        dSigma = tf.sum(dSigma, 0, true);
        dMu = tf.sum(dMu, 0, true);
      }
      const shape = broadcastShape(style.shape, a.layout, true);
      const count = style.size / (style.shape[0] * c);
      const rootShaped = tf.reshape(root, shape);
      const deviation = tf.sub(style, tf.reshape(moments.mean, shape));
      const centred = outside
        ? tf.where(tf.greater(rootShaped, 0), tf.div(deviation, rootShaped), tf.zerosLike(deviation))
        : tf.div(deviation, rootShaped);
      const dStyle = tf.div(tf.add(tf.reshape(dMu, shape), tf.mul(tf.reshape(dSigma, shape), centred)), count);
      const grads: Record<string, tf.Tensor> = { content: dContent, style: dStyle };
      if (a.hasResidual) grads.residual = dr;
      return grads;
    },
    ADAIN_INPUTS,
    saved,
  );
}

/** Registers the gradients of the forward kernels (once). */
export function registerGradients(): void {
  const gradients: tf.GradConfig[] = [
    {
      kernelName: INSTANCE_NORM_KERNEL,
      inputsToSave: [...NORMALIZATION_INPUTS],
      gradFunc: (dy, saved, attrs) => normalizationGradient(dy as tf.Tensor, saved, attrs as unknown as ForwardAttrs),
    },
    {
      kernelName: ADAIN_KERNEL,
      inputsToSave: [...ADAIN_INPUTS],
      gradFunc: (dy, saved, attrs) => adaInGradient(dy as tf.Tensor, saved, attrs as unknown as ForwardAttrs),
    },
  ];
  for (const config of gradients) if (!tf.getGradient(config.kernelName)) tf.registerGradient(config);
}
