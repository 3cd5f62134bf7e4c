import { defineConfig } from 'vite';

// The demo's build (`npm run build:demo`, `npm run demo`, and the e2e tests). The comparison's
// chunk carries ONNX Runtime Web and TensorFlow.js (about 550 kB): loaded only when its section
// is opened, so over Vite's 500 kB warning by design.
export default defineConfig({
  build: { chunkSizeWarningLimit: 1024 },
});
