import type { DoctorCheck } from './types.js';

/**
 * EXTENSION POINT for `kilo doctor`: checks owned by other parts of kilo (training queue state,
 * model registry integrity...). Add an import and an entry here; each check receives the
 * DoctorContext (home, loaded config, env) and returns one or more CheckResults. They run after the
 * built-in checks, and a check that throws is reported as a failure instead of crashing doctor.
 */
export async function extraChecks(): Promise<DoctorCheck[]> {
  return [];
}
