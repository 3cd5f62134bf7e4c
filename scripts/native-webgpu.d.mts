export function installNativeWebGpu(): Promise<void>;
