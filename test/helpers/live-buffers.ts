/**
 * Counts the buffers created on `device` from now on whose label `counted` accepts (default:
 * every one), and those of them not destroyed yet. `stop()` restores `device.createBuffer`.
 */
export function watchBuffers(device: GPUDevice, counted: (label: string) => boolean = () => true) {
  const live = new Set<GPUBuffer>();
  let created = 0;
  const createBuffer = device.createBuffer.bind(device);
  device.createBuffer = (descriptor: GPUBufferDescriptor) => {
    const buffer = createBuffer(descriptor);
    if (counted(descriptor.label ?? '')) {
      created++;
      live.add(buffer);
      const destroy = buffer.destroy.bind(buffer);
      buffer.destroy = () => {
        live.delete(buffer);
        destroy();
      };
    }
    return buffer;
  };
  return {
    live,
    created: () => created,
    stop: () => {
      device.createBuffer = createBuffer;
    },
  };
}

/** The library's buffers: those labelled InstanceNorm.*. */
export const libraryBuffer = (label: string): boolean => label.startsWith('InstanceNorm');
