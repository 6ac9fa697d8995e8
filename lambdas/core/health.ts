export type CheckState = 'ok' | 'failing';

export interface HealthProbes {
  database: () => Promise<void>;
  storage: () => Promise<void>;
}

export interface HealthReport {
  healthy: boolean;
  checks: Record<keyof HealthProbes, CheckState>;
  failures: Partial<Record<keyof HealthProbes, string>>;
}

/**
 * Runs every probe at once, each bounded by `timeoutMs`, so a hung dependency makes health fail fast
 * instead of hanging the caller (a load balancer, an uptime check) until its own timeout.
 */
export async function checkHealth(probes: HealthProbes, timeoutMs = 3000): Promise<HealthReport> {
  const names = Object.keys(probes) as Array<keyof HealthProbes>;
  const outcomes = await Promise.allSettled(
    names.map((name) => withTimeout(probes[name](), timeoutMs, name)),
  );
  const report: HealthReport = { healthy: true, checks: { database: 'ok', storage: 'ok' }, failures: {} };
  outcomes.forEach((outcome, index) => {
    const name = names[index]!;
    if (outcome.status === 'rejected') {
      report.healthy = false;
      report.checks[name] = 'failing';
      report.failures[name] =
        outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason);
    }
  });
  return report;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
