import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * ClamAV for tests: the signature database shipped in test/fixtures/clamav (no freshclam, no internet)
 * detects the EICAR test string, which is assembled at run time so the repository never trips a scanner.
 */
export const CLAMAV_TEST_SIGNATURES = fileURLToPath(new URL('../fixtures/clamav', import.meta.url));
export const EICAR = ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join('');

/** ClamAV tests run only where clamscan is installed (CI installs it). */
export const hasClamscan = (() => {
  try {
    execFileSync('clamscan', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
