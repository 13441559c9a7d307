export { runDoctor, nodeCheck, type DoctorOptions, type DoctorReport } from './checks.js';
export { result, type CheckResult, type CheckStatus, type DoctorCheck, type DoctorContext } from './types.js';
export { formatReport } from './format.js';
export { extraChecks } from './extra-checks.js';
