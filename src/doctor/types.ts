import type { Config } from '../config/schema.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What the operator can do about a warn/fail (null when nothing to do). */
  fix: string | null;
}

export interface DoctorContext {
  home: string;
  configPath: string;
  env: NodeJS.ProcessEnv;
  /** The loaded config, or the defaults when the file is missing/invalid (the config check says so). */
  config: Config;
  configValid: boolean;
}

/**
 * A check: returns one result or several. EXTENSION POINT: other parts of kilo (training queue,
 * model registry) add theirs through DoctorOptions.extraChecks without touching this folder.
 */
export type DoctorCheck = (ctx: DoctorContext) => Promise<CheckResult | CheckResult[]>;

export const result = (name: string, status: CheckStatus, detail: string, fix: string | null = null): CheckResult => ({ name, status, detail, fix });
