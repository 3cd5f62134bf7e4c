// Shared declarations of every InstanceNorm kernel: the uniform block, the bind group
// (one explicit layout shared by all passes, see pipeline-cache.ts), and where the
// elements of one instance (n, c) lie in memory for either layout.
//
// Sizes, strides and offsets count Elements: f32 values (scalar-elements.wgsl), or vec4f of
// four consecutive positions of one nchw instance (vec4-elements.wgsl). Each kernel's module
// is this file, one of those two, and the kernel's own files (shader-sources.ts).
//
// Statistics are kept relative to a per-instance pivot (the instance's first element):
// x - pivot is exact in f32 when x and pivot are close, so an input whose mean is far from
// zero loses no precision before it is centred, and the mean's own rounding stays out of
// the output. Every kernel computes mean = pivot + meanOffset.

// Invocations per workgroup, set per pipeline from TypeScript (pipeline-cache.ts).
override WORKGROUP_SIZE: u32 = 64u;

// A tensor larger than one storage binding is processed in windows of whole instances
// (planner.ts): `instance` counts from the window's first instance, and indices into
// input/output from the window's binding offset.
struct Params {
  instanceCount: u32,     // instances in this window
  channels: u32,          // C
  spatialSize: u32,       // elements of one instance (the product of the spatial dimensions, / 4 for vec4)
  channelStride: u32,     // elements between channels: spatialSize (nchw) or 1 (nhwc)
  spatialStride: u32,     // elements between spatial positions: 1 (nchw) or C (nhwc)
  chunkSize: u32,         // elements of one instance reduced by one workgroup (split plan)
  chunksPerInstance: u32, // ceil(spatialSize / chunkSize)
  epsilon: f32,
  hasScale: u32,
  hasBias: u32,
  elementOffset: u32,     // from the binding's start to the window's first element
  firstInstance: u32,     // of the window, in the whole tensor: gives the channel of scale and bias
}

@group(0) @binding(0) var<uniform> params: Params;
// Bindings 1 (input) and 2 (output) are declared with their Element type in *-elements.wgsl.
@group(0) @binding(3) var<storage, read> scale: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
// Per (instance, chunk): vec4(count, meanOffset, variance, 0), written by partial-moments.
@group(0) @binding(5) var<storage, read_write> partials: array<vec4f>;
// Per instance: vec4(pivot, meanOffset, 1 / sqrt(var + epsilon), 0).
@group(0) @binding(6) var<storage, read_write> stats: array<vec4f>;

// Index into input/output of spatial position `position` of instance `instance` (= n * C + c).
// A window starts on an instance (nchw) or an image (nhwc), so n and c count from it alike.
fn elementIndex(instance: u32, position: u32) -> u32 {
  let n = instance / params.channels;
  let c = instance - n * params.channels;
  return params.elementOffset + n * params.channels * params.spatialSize + c * params.channelStride + position * params.spatialStride;
}

// Linear workgroup index of a 1-D or 2-D dispatch grid (2-D where the count exceeds
// maxComputeWorkgroupsPerDimension).
fn linearWorkgroupIndex(workgroupId: vec3u, workgroupCount: vec3u) -> u32 {
  return workgroupId.y * workgroupCount.x + workgroupId.x;
}

// The affine factor and offset of channel c for an instance with 1/sqrt(var+eps) = invStd.
fn affineScale(instance: u32, invStd: f32) -> f32 {
  let c = (params.firstInstance + instance) % params.channels;
  return select(invStd, invStd * scale[c], params.hasScale == 1u);
}

fn affineBias(instance: u32) -> f32 {
  let c = (params.firstInstance + instance) % params.channels;
  return select(0.0, bias[c], params.hasBias == 1u);
}

// Writes output = (x - mean) * factor + offset for positions first, first + step, ... < end of
// one instance, with its statistics s = vec4(pivot, meanOffset, 1 / sqrt(var + eps), 0).
fn normalizeRange(instance: u32, s: vec4f, first: u32, end: u32, step: u32) {
  let factor = affineScale(instance, s.z);
  let offset = affineBias(instance);
  let indexStep = step * params.spatialStride;
  var index = elementIndex(instance, first);
  for (var position = first; position < end; position += step) {
    output[index] = ((input[index] - s.x) - s.y) * factor + offset;
    index += indexStep;
  }
}
