// Shared declarations of every InstanceNorm kernel: the uniform block, the bind group
// (one explicit layout shared by all passes, see pipeline-cache.ts), and where the
// elements of one instance lie in memory for either layout.
//
// Each kernel's module is this file, moments.wgsl, one values file (how many instances one
// invocation follows at once), the arithmetic and storage files of one element kind (how
// their data is loaded), and the kernel's own files (shader-sources.ts):
//   scalar-values + value-elements + scalar-elements          one f32 of one instance per load
//   scalar-values + four-position-elements + vec4-elements    four consecutive positions of one nchw instance
//   scalar-values + vec4-pair-elements + vec4-elements        eight of them, two vec4s per step (CPU adapters, forward only)
//   lane-values + value-elements + vec4-elements              four adjacent channels of one nhwc position (C % 4 = 0)
//   lane-values + value-elements + masked-channel-elements    up to four adjacent nhwc channels by scalar loads
//   lane-values + rgb-quad-elements                           four nhwc RGB positions as three vec4s (forward only)
// and the same four over halves (half-packing, half4-elements, half-elements and its users).
// The kernels that normalize also take their kind's normalize step (normalize-element.wgsl,
// vec4-pair-normalize.wgsl or rgb-quad-normalize.wgsl).
// In lane mode an "instance" of the kernels is a group of four channels of one image.
//
// Statistics are kept relative to a per-instance pivot (the instance's first value): x - pivot
// is exact in f32 when x and pivot are close, so an input whose mean is far from zero loses no
// precision before it is centred, and the mean's own rounding stays out of the output.

// Invocations per workgroup, set per pipeline from TypeScript (pipeline-cache.ts).
override WORKGROUP_SIZE: u32 = 64u;

// A tensor larger than one storage binding is processed in windows of whole images or nchw
// instances (planner.ts): `instance` counts from the window's first one, and element indices
// from the window's binding offset. Sizes, strides and offsets count Elements (elements files).
struct Params {
  instanceCount: u32,     // kernel instances in this window
  channels: u32,          // kernel instances per image: C, or ceil(C / 4) channel groups
  spatialSize: u32,       // elements of one instance
  imageStride: u32,       // elements between images
  channelStride: u32,     // elements between the kernel instances of one image
  spatialStride: u32,     // elements between spatial positions
  chunkSize: u32,         // elements of one instance reduced by one workgroup (split plan)
  chunksPerInstance: u32, // ceil(spatialSize / chunkSize)
  epsilon: f32,
  hasScale: u32,
  hasBias: u32,
  elementOffset: u32,     // from the binding's start to the window's first element
  firstInstance: u32,     // of the window, in kernel instances: gives the channel of scale and bias
  tensorChannels: u32,    // C: the lanes of the last channel group
  scaleImageStride: u32,  // between the scale values of two images: 0 (one per channel) or C (per instance)
  biasImageStride: u32,   // likewise for bias
  activationAlpha: f32,   // slope of 'leakyRelu' below zero (epilogue.wgsl)
  exportedSpreadOffset: u32, // export-stats: index of the second [N, C] block of statsArrays
  exportStd: u32,         // export-stats: 1 writes the spread there, 0 its inverse
  imageCount: u32,        // N of the whole tensor
  runningDecay: f32,      // update-running-stats: 1 - momentum, applied in the window holding image 0
  runningWeight: f32,     // update-running-stats: momentum / N
  unbiasFactor: f32,      // update-running-stats: S / (S - 1), from the biased variance to the unbiased one
  statsBase: u32,         // first statistics entry in scratch, after the partials
  groupChannels: u32,     // GroupNorm: channels per group (combine-group-moments, the fused kernels' units)
  batchStatistics: u32,   // backward-apply: 1 where the forward used the batch's statistics, 0 in eval mode
  instanceValues: u32,    // S: values of one instance (backward means)
  recomputeStats: u32,    // backward-per-thread: 1 reduces the input for its statistics
  epsilonOnStd: u32,      // 1: the spread is sqrt(var) + epsilon (keras-contrib), 0: sqrt(var + epsilon)
}

@group(0) @binding(0) var<uniform> params: Params;
// Bindings 1 (input) and 2 (output) are declared with their element type in *-elements.wgsl.
@group(0) @binding(3) var<storage, read> scale: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
// Scratch of the split plan, from its first entry the partials, per (statistics entry, chunk):
// vec4(count, meanOffset, variance, pivot) from partial-moments; from entry params.statsBase
// the statistics, per statistics entry: vec4(pivot, meanOffset, 1 / spread (laneInverseSpread),
// variance). One entry per instance; in lane mode LANES entries per channel group. One
// binding for both: WebGPU guarantees only 8 storage buffers per shader stage.
@group(0) @binding(5) var<storage, read_write> scratch: array<vec4f>;
// Binding 6 (residual, added by the epilogue) is declared with the input's element type too.
// Statistics per tensor instance n * C + c, as plain arrays: the means, then from
// exportedSpreadOffset 1 / spread (or the spread itself for adain). Written by
// export-stats, read by load-saved-stats (the backward with the forward's statistics).
@group(0) @binding(7) var<storage, read_write> statsArrays: array<f32>;
// Per-channel values: the running means then variances (unbiased, as in PyTorch), or the
// backward's gradients of scale then bias (per channel, or per instance).
@group(0) @binding(8) var<storage, read_write> channelValues: array<f32>;

// Index of spatial position `position` of kernel instance `instance`, in elements.
fn elementIndex(instance: u32, position: u32) -> u32 {
  let n = instance / params.channels;
  let c = instance - n * params.channels;
  return params.elementOffset + n * params.imageStride + c * params.channelStride + position * params.spatialStride;
}

// The tensor channel of kernel instance `instance` (its first channel in lane mode).
fn instanceChannel(instance: u32) -> u32 {
  return ((params.firstInstance + instance) % params.channels) * LANES;
}

// The image (n) of kernel instance `instance`.
fn instanceImage(instance: u32) -> u32 {
  return (params.firstInstance + instance) / params.channels;
}

// What one workgroup of a chunked pass (partial-moments, normalize, backward-partials,
// backward-apply) handles: chunk (w % chunksPerInstance) of kernel instance
// (w / chunksPerInstance), positions start ..< end, so that a large instance keeps every core busy.
struct Chunk {
  instance: u32,
  index: u32,
  start: u32,
  end: u32,
}

fn chunkCount() -> u32 {
  return params.instanceCount * params.chunksPerInstance;
}

fn workgroupChunk(chunkIndex: u32) -> Chunk {
  let chunk = chunkIndex % params.chunksPerInstance;
  let start = chunk * params.chunkSize;
  return Chunk(chunkIndex / params.chunksPerInstance, chunk, start, min(start + params.chunkSize, params.spatialSize));
}

// The per-channel passes (update-running-stats, backward-affine) visit one tensor channel's
// instances, one per image; a tensor in several windows holds each of them in exactly one.
const NO_ENTRY = 0xffffffffu;

// The window's statistics entry of image n's instance of tensor channel `channel`, or NO_ENTRY
// where this window does not hold it.
fn channelEntry(n: u32, channel: u32) -> u32 {
  let instance = n * params.channels + channel / LANES;
  if (instance < params.firstInstance || instance >= params.firstInstance + params.instanceCount) {
    return NO_ENTRY;
  }
  return (instance - params.firstInstance) * LANES + channel % LANES;
}

// The fused kernels' unit of work: an instance, or with GROUPED (GroupNorm's fused plans) a
// group, whose channels are groupInstances() consecutive kernel instances (the planner keeps a
// group of whole channel groups of four in lane mode), merged into one set of statistics. An
// override, so that instance norm's kernels compile with no loop over a group.
override GROUPED: bool = false;

fn groupInstances() -> u32 {
  return select(1u, max(1u, params.groupChannels / LANES), GROUPED);
}

// Whether a group's kernel instances follow one another in memory (nchw), so that its moments
// are those of one range of positions from its first instance's start: one loop over the group,
// not one per channel, for small images. Uniform, so a branch on it costs nothing per element.
fn groupIsContiguous() -> bool {
  return GROUPED && params.channelStride == params.spatialSize * params.spatialStride;
}

// Linear workgroup index of a 1-D or 2-D dispatch grid (2-D where the count exceeds
// maxComputeWorkgroupsPerDimension).
fn linearWorkgroupIndex(workgroupId: vec3u, workgroupCount: vec3u) -> u32 {
  return workgroupId.y * workgroupCount.x + workgroupId.x;
}
