import React, { useEffect, useState } from 'react';
import { Box } from 'ink';
import type { EngineApi, JobView } from '../../../src/engine-api.js';
import { useRoutedInput } from '../../hooks/use-routed-input.js';
import { St } from '../../components/styled.js';
import { progressBar } from '../../components/progress-bar.js';
import { fmtDuration, fmtNum } from '../../format.js';

interface SymbolProgress {
  job: JobView | null;
  refused: string | null;
}

const TERMINAL = new Set(['done', 'failed', 'cancelled']);

/** Pure: every requested symbol has a finished job, or was refused and no job showed up for it. */
export function trainingFinished(p: Record<string, SymbolProgress>): boolean {
  return Object.values(p).every((s) => (s.job ? TERMINAL.has(s.job.state) : s.refused !== null));
}

export interface TrainingStepProps {
  startEngine: () => Promise<EngineApi>;
  symbols: readonly string[];
  onFinished: (engine: EngineApi) => void;
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
    if (finished && engine) onFinished(engine);
  }, [finished, engine, onFinished]);

  useRoutedInput((input) => {
    // Continue while the jobs keep running in the engine.
    if (input === 'b' && engine) onFinished(engine);
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
