import React, { useEffect, useState } from 'react';
import { Box } from 'ink';
import type { EngineApi, EngineSnapshot, JobView } from '../../../src/engine-api.js';
import { useRoutedInput } from '../../hooks/use-routed-input.js';
import { St } from '../../components/styled.js';
import { progressBar } from '../../components/progress-bar.js';
import { fmtDuration, fmtNum } from '../../format.js';

export interface SymbolProgress {
  job: JobView | null;
  refused: string | null;
}

const TERMINAL = new Set(['done', 'failed', 'cancelled']);

/** Pure: every requested symbol has a finished job, or was refused and no job showed up for it. */
export function trainingFinished(p: Record<string, SymbolProgress>): boolean {
  return Object.values(p).every((s) => (s.job ? TERMINAL.has(s.job.state) : s.refused !== null));
}

/** How one symbol's initial training ended, for the summary before "Start the bot now?". */
export interface TrainingOutcome {
  symbol: string;
  kind: 'trained' | 'failed' | 'cancelled' | 'refused' | 'pending';
  /** For people: the version now serving it, the error, why it was refused, or how far it got. */
  detail: string;
}

/** Pure: what trained, what failed and why, from the jobs followed and the engine's snapshot. */
export function trainingOutcomes(p: Record<string, SymbolProgress>, snap: Pick<EngineSnapshot, 'symbols'> | null): TrainingOutcome[] {
  return Object.entries(p).map(([symbol, { job, refused }]) => {
    if (!job) return refused !== null ? { symbol, kind: 'refused', detail: `not queued: ${refused}` } : { symbol, kind: 'pending', detail: 'still waiting for the queue' };
    const serving = snap?.symbols.find((r) => r.symbol === symbol)?.modelVersion ?? null;
    switch (job.state) {
      case 'done':
        return { symbol, kind: 'trained', detail: serving ? `trained; v${serving} serves it` : 'trained; no version serves it yet (see the Models panel)' };
      case 'failed':
        return { symbol, kind: 'failed', detail: `failed after ${job.attempts} attempt${job.attempts === 1 ? '' : 's'}: ${job.lastError ?? 'no error recorded'}` };
      case 'cancelled':
        return { symbol, kind: 'cancelled', detail: `cancelled${job.lastError ? `: ${job.lastError}` : ''}` };
      default: {
        const pct = job.progress ? ` (${Math.round(job.progress.fraction * 100)}%)` : '';
        return { symbol, kind: 'pending', detail: `${job.state}${pct}: keeps training in the background${job.lastError ? `; last error: ${job.lastError}` : ''}` };
      }
    }
  });
}

export interface TrainingStepProps {
  startEngine: () => Promise<EngineApi>;
  symbols: readonly string[];
  onFinished: (engine: EngineApi, outcomes: TrainingOutcome[]) => void;
  onError: (message: string) => void;
  active: boolean;
}

/** Starts the engine, queues the initial trainings and shows their progress from job events. */
export function TrainingStep({ startEngine, symbols, onFinished, onError, active }: TrainingStepProps): React.ReactElement {
  const [engine, setEngine] = useState<EngineApi | null>(null);
  const [progress, setProgress] = useState<Record<string, SymbolProgress>>(() =>
    Object.fromEntries(symbols.map((s) => [s, { job: null, refused: null }])),
  );

  useEffect(() => {
    let cancelled = false;
    let off: (() => void) | undefined;
    startEngine().then(
      (e) => {
        if (cancelled) return;
        setEngine(e);
        const track = (j: JobView) => {
          if (!symbols.includes(j.symbol)) return;
          setProgress((p) => {
            const cur = p[j.symbol];
            // Follow the newest job of the symbol (a retry or a re-queue replaces the old one).
            if (cur.job && cur.job.id !== j.id && cur.job.queuedAt > j.queuedAt) return p;
            return { ...p, [j.symbol]: { ...cur, job: j } };
          });
        };
        off = e.on('job', track);
        for (const j of e.getSnapshot().jobs) if (!TERMINAL.has(j.state)) track(j);
        for (const s of symbols) {
          e.train({ symbol: s, reason: 'initial training (setup)' }).then(
            (r) => {
              if (!r.ok) setProgress((p) => ({ ...p, [s]: { ...p[s], refused: r.message } }));
            },
            (err: unknown) => setProgress((p) => ({ ...p, [s]: { ...p[s], refused: err instanceof Error ? err.message : String(err) } })),
          );
        }
      },
      (err: unknown) => {
        if (!cancelled) onError(`the engine did not start: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
    return () => {
      cancelled = true;
      off?.();
    };
    // Runs once: the symbols and the engine factory are fixed for this step.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const finished = engine !== null && trainingFinished(progress);
  useEffect(() => {
    if (finished && engine) onFinished(engine, trainingOutcomes(progress, engine.getSnapshot()));
    // The outcomes are read when the last job finishes; later progress changes nothing.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [finished, engine, onFinished]);

  useRoutedInput((input) => {
    // Continue while the jobs keep running in the engine.
    if (input === 'b' && engine) onFinished(engine, trainingOutcomes(progress, engine.getSnapshot()));
  }, active);

  return (
    <Box flexDirection="column">
      <St bold>{engine ? 'Initial training' : 'Starting the engine…'}</St>
      {symbols.map((s) => {
        const { job, refused } = progress[s];
        const p = job?.progress;
        const fraction = job?.state === 'done' ? 1 : (p?.fraction ?? 0);
        const detail = job
          ? `${job.state}${p ? ` ${p.phase} epoch ${p.epoch}/${p.epochs} loss ${fmtNum(p.loss, 4)} eta ${fmtDuration(p.etaS === null ? null : p.etaS * 1000)}` : ''}${job.lastError ? ` error: ${job.lastError}` : ''}`
          : refused
            ? `not queued: ${refused}`
            : 'waiting for the queue…';
        return <St key={s}>{`${s.padEnd(11)} ${progressBar(fraction, 22)} ${String(Math.round(fraction * 100)).padStart(3)}% ${detail}`}</St>;
      })}
      <St dim>b: continue now and let the training finish in the background</St>
    </Box>
  );
}
