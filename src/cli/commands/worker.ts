import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { positiveInt } from '../load-config.js';

interface WorkerOpts {
  redis?: string;
  concurrency?: string;
  name?: string;
  prefix?: string;
  finishJobs?: boolean;
}

/** Exit codes of `kilo worker` (also in its --help and the README). */
export const WORKER_EXIT = { stopped: 0, failed: 1, usage: 2, unreachable: 4 } as const;

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('take training jobs from Redis (distributed.backend bullmq) and run them here')
    .option('--redis <url>', 'Redis URL, e.g. redis://10.0.0.5:6379 (default: $KILO_REDIS_URL, which keeps a password out of ps)')
    .option('--concurrency <n>', 'trainings at once, each on its own worker thread', '1')
    .option('--name <name>', 'name shown in the engine\'s queue panel and kilo doctor (default: host-pid)')
    .option('--prefix <prefix>', 'queue prefix, as distributed.queue_prefix of the engine', 'kilo')
    .option('--finish-jobs', 'at stop, finish running jobs instead of handing them back to the queue')
    .addHelpText(
      'after',
      [
        '',
        'SIGINT/SIGTERM stop cleanly: a running job goes back to the queue for another worker (or finishes',
        'with --finish-jobs), then the worker exits 0. A second signal exits at once (130); BullMQ then',
        'hands the job to another worker after its lock expires.',
        'Exit codes: 0 stopped cleanly, 2 bad option or malformed URL, 4 Redis unreachable at start, 1 other errors.',
        'The worker needs no config, market data or exchange keys: every job carries its candles.',
      ].join('\n'),
    )
    .action(async (opts: WorkerOpts) => {
      const { checkRedisUrl, RedisUnreachableError, RedisUrlError } = await import('../../distributed/redis.js');
      const url = opts.redis ?? process.env.KILO_REDIS_URL;
      if (!url) throw new CliError('worker: give --redis redis://host:6379 or set $KILO_REDIS_URL', WORKER_EXIT.usage);
      try {
        checkRedisUrl(url, opts.redis ? '--redis' : '$KILO_REDIS_URL');
      } catch (err) {
        if (err instanceof RedisUrlError) throw new CliError(err.message, WORKER_EXIT.usage);
        throw err;
      }
      const concurrency = positiveInt('--concurrency', opts.concurrency) ?? 1;
      const prefix = opts.prefix ?? 'kilo';
      if (!/^[A-Za-z0-9_-]{1,40}$/.test(prefix)) throw new CliError(`--prefix: letters, digits, _ and - only, got "${prefix}"`, WORKER_EXIT.usage);
      const [{ KiloWorker }, { kiloVersion }, { hostname }] = await Promise.all([import('../../distributed/worker.js'), import('../../distributed/index.js'), import('node:os')]);
      const name = opts.name ?? `${hostname()}-${process.pid}`;
      const ms = (v: string | undefined, key: string): number | undefined => {
        if (v === undefined || v === '') return undefined;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 100) throw new CliError(`$${key}: expected milliseconds >= 100, got "${v}"`, WORKER_EXIT.usage);
        return n;
      };
      const worker = new KiloWorker({
        url,
        prefix,
        concurrency,
        name,
        kiloVersion: kiloVersion(),
        finishJobs: Boolean(opts.finishJobs),
        // Tuning knobs (tests use short ones to see stalled-job recovery quickly).
        lockMs: ms(process.env.KILO_WORKER_LOCK_MS, 'KILO_WORKER_LOCK_MS'),
        stalledMs: ms(process.env.KILO_WORKER_STALLED_MS, 'KILO_WORKER_STALLED_MS'),
        log: (level, message) => process.stdout.write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}\n`),
      });
      try {
        await worker.start();
      } catch (err) {
        if (err instanceof RedisUnreachableError) throw new CliError(err.message, WORKER_EXIT.unreachable);
        throw err;
      }
      await new Promise<void>((resolve) => {
        let signals = 0;
        const onSignal = (sig: NodeJS.Signals): void => {
          signals++;
          if (signals > 1) {
            process.stderr.write(`kilo worker: second ${sig}, exiting now\n`);
            process.exit(130);
          }
          process.stdout.write(`${new Date().toISOString()} INFO  ${sig}: stopping\n`);
          void worker.stop().then(resolve, (err: Error) => {
            process.stderr.write(`kilo worker: stop failed: ${err.message}\n`);
            process.exitCode = WORKER_EXIT.failed;
            resolve();
          });
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
      // Connections are closed; exit without waiting for stray handles (a worker thread's teardown).
      process.exit(process.exitCode ?? WORKER_EXIT.stopped);
    });
}
