// Runs before `npm test`: make sure a Chromium exists for the browser suite. Installs Debian's
// package when running as root on Debian, else Playwright's build, else says what to run.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright';
import { chromiumPath } from './chromium-path.mjs';

const configured = chromiumPath();
if (configured) {
  if (existsSync(configured)) process.exit(0);
  console.error(`[ensure-chromium] CHROMIUM_PATH=${configured} does not exist.`);
  process.exit(1);
}
if (existsSync(chromium.executablePath())) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const isDebian = existsSync('/etc/debian_version');
const command =
  isRoot && isDebian
    ? 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium'
    : 'npx playwright install chromium';
try {
  console.log(`[ensure-chromium] no Chromium found; running: ${command}`);
  execSync(command, { stdio: 'inherit' });
} catch {
  console.error(
    '[ensure-chromium] Could not install Chromium for the browser tests. Run one of:\n' +
      '  sudo apt-get install -y chromium        (Debian/Ubuntu: the tests then use /usr/bin/chromium)\n' +
      "  npx playwright install chromium         (Playwright's own build)\n" +
      '  export CHROMIUM_PATH=/path/to/chromium  (any Chromium with WebGPU)',
  );
  process.exit(1);
}
