// The unit of work of the row passes of nhwc channel groups (partial-moments-rows.wgsl,
// normalize-rows.wgsl): a chunk of an image's positions across a slice of WORKGROUP_SIZE
// consecutive channel groups, one per invocation, so that at each position neighbouring
// invocations read neighbouring memory: a slice's part of a row is one contiguous run, read by
// one workgroup only. The other passes give a workgroup one channel group, its invocations at
// neighbouring positions a row's stride apart. On SwiftShader the rows were measured faster
// where they replace that walk (BENCHMARKS.md, step 35), though not for the cache reasons first
// supposed: the tensors there sit in cache, and instructions, not misses, cost.

// What one workgroup of the row passes handles: positions start ..< end (chunk `chunk` of the
// image) of `groups` consecutive channel groups of one image from kernel instance
// firstInstance, at most WORKGROUP_SIZE; groups is 0 for an excess workgroup. Workgroups run
// slice fastest, then chunk, then image.
struct RowChunk {
  firstInstance: u32,
  groups: u32,
  chunk: u32,
  start: u32,
  end: u32,
}

fn workgroupRowChunk(w: u32) -> RowChunk {
  let slices = (params.channels + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE;
  let images = params.instanceCount / params.channels;
  if (w >= images * params.chunksPerInstance * slices) {
    return RowChunk(0u, 0u, 0u, 0u, 0u);
  }
  let slice = w % slices;
  let chunk = (w / slices) % params.chunksPerInstance;
  let image = w / (slices * params.chunksPerInstance);
  let firstGroup = slice * WORKGROUP_SIZE;
  let start = chunk * params.chunkSize;
  return RowChunk(
    image * params.channels + firstGroup,
    min(WORKGROUP_SIZE, params.channels - firstGroup),
    chunk,
    start,
    min(start + params.chunkSize, params.spatialSize),
  );
}
