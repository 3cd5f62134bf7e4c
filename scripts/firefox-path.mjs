// Where the browser tests find a Firefox with WebGPU (wgpu): $FIREFOX_PATH, else Debian's
// firefox-esr, else undefined (no Firefox project then). Playwright drives it over WebDriver BiDi
// (channel 'moz-firefox'), which needs no patched Firefox build. Also what `npm test` runs there
// (firefoxPlan, FIREFOX_CORE_TESTS).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

export const DEBIAN_FIREFOX = '/usr/lib/firefox-esr/firefox-esr';

export function firefoxPath() {
  if (process.env.FIREFOX_PATH) return existsSync(process.env.FIREFOX_PATH) ? process.env.FIREFOX_PATH : undefined;
  if (existsSync(DEBIAN_FIREFOX)) return DEBIAN_FIREFOX;
  return undefined;
}

// WebGPU is behind a pref on Linux, and a CPU Vulkan driver is on its blocklist.
export const FIREFOX_PREFS = {
  'dom.webgpu.enabled': true,
  'gfx.webgpu.ignore-blocklist': true,
};

// Without a GPU, wgpu needs a Vulkan driver on the CPU. Mesa's lavapipe from version 25
// (mesa-vulkan-drivers from bookworm-backports) gives Firefox ESR 153 a WebGPU adapter; Mesa
// 22.3's, bookworm's own, computes wrong results in a few kernels, and with SwiftShader's ICD
// (Debian's chromium ships it) requestAdapter() gives null. Lavapipe 25 where installed, else
// SwiftShader's.
const LAVAPIPE_ICD = '/usr/share/vulkan/icd.d/lvp_icd.json';
const SWIFTSHADER_ICDS = ['/usr/lib/chromium/vk_swiftshader_icd.json'];

/** The major version of Debian's mesa-vulkan-drivers, or 0 where it is not installed. */
function mesaVulkanMajor() {
  try {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's format, not a template
    const version = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'mesa-vulkan-drivers'], { encoding: 'utf8' });
    return Number(/^(\d+)\./.exec(version)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The Vulkan ICD Firefox's wgpu should use here: lavapipe 25+, else SwiftShader's, else none. */
function cpuVulkanIcd() {
  if (existsSync(LAVAPIPE_ICD) && mesaVulkanMajor() >= 25) return LAVAPIPE_ICD;
  return SWIFTSHADER_ICDS.find((path) => existsSync(path));
}

/** The environment of the Firefox process: $VK_ICD_FILENAMES where set, else the ICD above. */
export function firefoxEnv() {
  const env = { ...process.env };
  if (!env.VK_ICD_FILENAMES) {
    const icd = cpuVulkanIcd();
    if (icd) env.VK_ICD_FILENAMES = icd;
  }
  return env;
}

/** Which Vulkan driver Firefox will use, for the output. */
export function firefoxVulkanDriver() {
  return firefoxEnv().VK_ICD_FILENAMES ?? 'the system Vulkan driver';
}

// The core of the GPU suite that `npm test` runs on Firefox beside the whole suite on Chromium:
// the main correctness matrices against the float64 reference, in about 3 minutes of the ~10 the
// whole suite takes there (each file's time on Firefox ESR 153.8 over lavapipe 25.0.7, 2 CPU
// cores). Left to `npm run test:firefox` (the whole suite): numeric-limits (145 s), epilogue
// (86 s), hostile (65 s), the TF.js, fuzz, limits, lifetime and tuning files (5-20 s each).
export const FIREFOX_CORE_TESTS = [
  'test/adapter.browser.test.ts', // names the implementation, adapter, features, limits (0 s)
  'test/run.browser.test.ts', // the typed-array round trip (1 s)
  'test/gpu-matches-cpu.browser.test.ts', // shapes x layouts x strategies x element kinds (50 s)
  'test/group-norm.browser.test.ts', // GroupNorm, every strategy (25 s)
  'test/float16.browser.test.ts', // half storage (15 s)
  'test/stats.browser.test.ts', // stats() (1 s)
  'test/adain.browser.test.ts', // AdaIN (4 s)
  'test/backward.browser.test.ts', // the backward against the reference (43 s)
  'test/running-stats.browser.test.ts', // running statistics, eval mode (6 s)
  'test/non-finite.browser.test.ts', // NaN and Inf stay in their instance (3 s)
  'test/gpu-errors.browser.test.ts', // WebGPU errors reported, not swallowed (0.5 s)
  'test/workgroup-reductions.browser.test.ts', // the workgroup merges; subgroup ones skip by name (14 s)
];

/**
 * What the `firefox` test project runs, from $VITEST_FIREFOX: '0' nothing; '1' the whole GPU
 * suite (`npm run test:firefox`); unset, the core subset where a Firefox and a Vulkan driver that
 * gives it an adapter are found (lavapipe 25+, or $VK_ICD_FILENAMES), else nothing. `reason`
 * says why, for the output.
 * @returns {{ mode: 'off' | 'core' | 'full', firefox?: string, reason: string }}
 */
export function firefoxPlan() {
  const wanted = process.env.VITEST_FIREFOX;
  if (wanted === '0') return { mode: 'off', reason: 'VITEST_FIREFOX=0' };
  const firefox = firefoxPath();
  if (!firefox) {
    const where = process.env.FIREFOX_PATH ? `FIREFOX_PATH=${process.env.FIREFOX_PATH} does not exist` : `no ${DEBIAN_FIREFOX}`;
    return { mode: 'off', reason: `${where} (apt-get install firefox-esr, or set FIREFOX_PATH)` };
  }
  if (wanted === '1') return { mode: 'full', firefox, reason: 'VITEST_FIREFOX=1' };
  const driver = process.env.VK_ICD_FILENAMES ?? (cpuVulkanIcd() === LAVAPIPE_ICD ? LAVAPIPE_ICD : undefined);
  if (!driver) {
    return {
      mode: 'off',
      firefox,
      reason:
        'no Vulkan driver known to give Firefox a WebGPU adapter here: install mesa-vulkan-drivers 25 or later ' +
        '(bookworm-backports; .ci/run does), set VK_ICD_FILENAMES, or force it with VITEST_FIREFOX=1',
    };
  }
  return { mode: 'core', firefox, reason: 'the default where Firefox and a CPU Vulkan driver are found' };
}

// BiDi commands Playwright sends that an older Firefox (ESR 153) does not know: answered by
// Firefox with the error 'unknown command'. Each only tunes emulation that the tests do not use.
const TOLERATED_BIDI_COMMANDS = new Set([
  'emulation.setMediaFeaturesOverride',
  'emulation.setLocaleOverride',
  'emulation.setTimezoneOverride',
  'emulation.setScreenOrientationOverride',
  'emulation.setScrollbarTypeOverride',
  'emulation.setForcedColorsModeThemeOverride',
  'emulation.setNetworkConditions',
  'emulation.setUserAgentOverride',
  'emulation.setTouchOverride',
  'emulation.setScriptingEnabled',
  'browsingContext.setBypassCSP',
]);

let patched = false;
const tolerated = new Set();

/**
 * Makes Playwright's WebDriver BiDi connection treat 'unknown command' for the commands above as
 * success, at the WebSocket under its transport (Playwright exports nothing higher). Every other
 * error still reaches Playwright. Idempotent; returns the commands it tolerated so far.
 */
export function tolerateUnknownBidiCommands() {
  const require = createRequire(createRequire(import.meta.url).resolve('playwright'));
  const { ws: WebSocket } = require('playwright-core/lib/utilsBundle');
  if (patched) return tolerated;
  patched = true;
  const pending = new WeakMap();
  const idsOf = (socket) => {
    if (!pending.has(socket)) pending.set(socket, new Map());
    return pending.get(socket);
  };
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data, ...rest) {
    try {
      const message = typeof data === 'string' ? JSON.parse(data) : undefined;
      if (message && TOLERATED_BIDI_COMMANDS.has(message.method)) idsOf(this).set(message.id, message.method);
    } catch {}
    return send.call(this, data, ...rest);
  };
  const addEventListener = WebSocket.prototype.addEventListener;
  WebSocket.prototype.addEventListener = function (type, listener, ...rest) {
    if (type !== 'message') return addEventListener.call(this, type, listener, ...rest);
    const socket = this;
    const wrapped = function (event) {
      const ids = pending.get(socket);
      if (ids?.size) {
        try {
          const message = JSON.parse(event.data.toString());
          const method = ids.get(message.id);
          if (method !== undefined) {
            ids.delete(message.id);
            if (message.type === 'error' && message.error === 'unknown command') {
              tolerated.add(method);
              const success = JSON.stringify({ type: 'success', id: message.id, result: {} });
              return listener.call(this, { ...event, type: 'message', data: success, target: event.target });
            }
          }
        } catch {}
      }
      return listener.call(this, event);
    };
    return addEventListener.call(this, type, wrapped, ...rest);
  };
  return tolerated;
}
