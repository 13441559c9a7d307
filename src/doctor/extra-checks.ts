import { join } from 'node:path';
import { result, type CheckResult, type DoctorCheck } from './types.js';
import { distributedCheck } from './distributed-check.js';

/**
 * Checks owned by other parts of kilo, run after the built-in ones: the training queue file and the
 * model registry (counts, anything corrupt or incomplete). Both only read; doctor never repairs.
 */
const queueCheck: DoctorCheck = async (ctx) => {
  const { readQueueFile, backupPath } = await import('../training/queue-store.js');
  const { QUEUE_FILE_NAME } = await import('../training/queue.js');
  const file = join(ctx.home, 'data', QUEUE_FILE_NAME);
  const main = await readQueueFile(file);
  if (main.kind === 'missing') return result('training queue', 'ok', `${file} not created yet (empty queue)`);
  if (main.kind === 'bad') {
    const bak = await readQueueFile(backupPath(file));
    return bak.kind === 'ok'
      ? result('training queue', 'warn', `${file} is corrupt (${main.error}); ${backupPath(file)} is good`, 'the next engine start recovers it from the .bak copy')
      : result('training queue', 'fail', `${file} is corrupt (${main.error}) and has no good .bak`, `move ${file} aside; the queue starts empty`);
  }
  const by = (s: string): number => main.data.entries.filter((e) => e.state === s).length;
  return result('training queue', 'ok', `${by('queued')} queued, ${by('running')} running, ${by('failed')} failed, ${by('done')} done`);
};

const registryCheck: DoctorCheck = async (ctx) => {
  const { ModelRegistry, registryPaths } = await import('../registry/registry.js');
  const reg = new ModelRegistry({ ...registryPaths(ctx.home), verifyChecksums: true });
  await reg.refresh();
  const versions = reg.list();
  const artifacts = versions.flatMap((v) => v.artifacts);
  const bad = artifacts.filter((a) => !a.complete);
  const out: CheckResult[] = [];
  const sel = reg.selection(ctx.config, Date.now());
  const detail = `${versions.length} version(s), ${artifacts.length} artifact(s), covered: ${reg.coveredSymbols(ctx.config).join(', ') || 'none'}; selected ${sel.winner ?? 'none'}`;
  out.push(
    bad.length
      ? result('model registry', 'warn', `${detail}; incomplete or corrupt (never selected): ${bad.map((a) => `v${a.version}/${a.key}: ${a.problems[0] ?? 'incomplete'}`).join('; ')}`, `kilo models shows the problems; remove the listed folders or retrain`)
      : result('model registry', 'ok', detail),
  );
  const sp = reg.servingProblem();
  if (sp) out.push(result('serving map', 'warn', sp, 'the registry falls back to the selection; a promotion rewrites the file'));
  return out;
};

export async function extraChecks(): Promise<DoctorCheck[]> {
  return [queueCheck, registryCheck, distributedCheck];
}
