import React, { useCallback, useEffect, useRef, useState } from 'react';
import { Box } from 'ink';
import type { EngineApi } from '../../../src/engine-api.js';
import type { Config } from '../../../src/config/schema.js';
import { useInputCommitProbe, useRoutedInput } from '../../hooks/use-routed-input.js';
import { St } from '../../components/styled.js';
import { TextInput } from '../../components/text-input.js';
import { defaultAnswers, wizardAnswersToPatch, WizardInputError, type WizardAnswers } from './answers.js';
import { stepsFor, type ExistingModel, type Step } from './steps.js';
import { Select } from './select-step.js';
import { TrainingStep, type TrainingOutcome } from './training-step.js';
import { useWizardState } from './use-wizard-state.js';

/** What the wizard needs from the outside; the CLI wires these to config/, registry/ and engine. */
export interface WizardDeps {
  /** The starting point: the existing config, or the defaults. */
  base: Config;
  configPath: string;
  /** The best compatible model for these answers, or null. */
  findExistingModel: (answers: WizardAnswers) => Promise<ExistingModel | null>;
  /**
   * Write the patch into config.yaml (creating it first if needed). May return notices for the
   * operator (symbols left out of a multi-symbol set, and why).
   */
  save: (patch: Record<string, unknown>) => Promise<void | string[]>;
  /** What the chosen source lists, offered at the symbol questions. */
  listSymbols?: (answers: WizardAnswers) => Promise<WizardListing>;
  /** Typed symbols checked against the chosen source: unlisted ones are refused. */
  checkSymbols?: (answers: WizardAnswers, symbols: string[]) => Promise<WizardSymbolCheck>;
  /** A CSV folder: null when usable, else why not. */
  checkCsvDir?: (dir: string) => Promise<string | null>;
  /** Build and start an engine from the saved config. */
  startEngine: () => Promise<EngineApi>;
}

export interface WizardListing {
  /** "the simulator (seed 42)", "binance", ... */
  name: string;
  /** Null when the list cannot be read (the note says why). */
  symbols: string[] | null;
  note?: string;
}

export interface WizardSymbolCheck {
  rejected: { symbol: string; reason: string }[];
  /** Set when the list could not be read and the symbols were not checked. */
  note?: string;
}

export type WizardResult =
  | { kind: 'cancelled'; saved: boolean; engine: EngineApi | null }
  | { kind: 'start'; engine: EngineApi | null }
  | { kind: 'later'; engine: EngineApi | null };

export interface WizardProps {
  deps: WizardDeps;
  onDone: (result: WizardResult) => void;
}

function StepView({ step, answers, onAnswer, onBack }: { step: Step; answers: WizardAnswers; onAnswer: (value: string) => void; onBack: () => void }) {
  const [text, setText] = useState(() => (step.kind === 'text' ? step.get(answers) : ''));
  if (step.kind === 'select') return <Select options={step.options} initial={step.get(answers)} onSelect={onAnswer} onBack={onBack} active />;
  return <TextInput prompt="> " value={text} onChange={setText} onSubmit={onAnswer} onCancel={onBack} active />;
}

const OUTCOME_COLOR: Record<TrainingOutcome['kind'], string | undefined> = { trained: 'green', failed: 'red', refused: 'red', cancelled: 'yellow', pending: undefined };

/** What trained, what failed and why: the failures stay on screen instead of flashing past. */
export function TrainingSummary({ outcomes }: { outcomes: readonly TrainingOutcome[] }): React.ReactElement {
  const trained = outcomes.filter((o) => o.kind === 'trained').length;
  const failed = outcomes.filter((o) => o.kind === 'failed' || o.kind === 'refused').length;
  return (
    <Box flexDirection="column" marginBottom={1}>
      <St bold>{`Initial training: ${trained} of ${outcomes.length} trained${failed ? `, ${failed} failed` : ''}`}</St>
      {outcomes.map((o) => (
        <St key={o.symbol} color={OUTCOME_COLOR[o.kind]} wrap="wrap">{`  ${o.symbol.padEnd(11)} ${o.detail}`}</St>
      ))}
      {failed ? <St dim wrap="wrap">A symbol without a model trades on the TA fallback (or stays blocked) until a training succeeds; the Queue panel retries and :train SYMBOL starts one.</St> : null}
    </Box>
  );
}

export function Wizard({ deps, onDone }: WizardProps): React.ReactElement {
  const [state, dispatch] = useWizardState(defaultAnswers(deps.base));
  const [existing, setExisting] = useState<{ key: string; model: ExistingModel | null } | 'loading'>('loading');
  const engineRef = useRef<EngineApi | null>(null);
  // What the initial training did, shown until the operator answers "Start the bot now?".
  const [outcomes, setOutcomes] = useState<TrainingOutcome[] | null>(null);
  const doneRef = useRef(false);
  useInputCommitProbe();
  const { answers, phase } = state;
  const lookupKey = `${answers.trainingMode}|${answers.encoding}|${answers.symbols.join(',')}`;
  const sourceKey = `${answers.source}|${answers.exchangeId}|${answers.csvDir}`;
  const [listing, setListing] = useState<WizardListing | null>(null);
  const [checking, setChecking] = useState(false);
  const [notices, setNotices] = useState<string[]>([]);

  useEffect(() => {
    if (!deps.listSymbols || phase !== 'questions') return;
    let stale = false;
    setListing(null);
    deps.listSymbols(answers).then(
      (l) => !stale && setListing(l),
      () => !stale && setListing(null),
    );
    return () => {
      stale = true;
    };
    // The listing depends only on the source answers.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [sourceKey]);

  const finish = useCallback(
    (r: WizardResult) => {
      if (doneRef.current) return;
      doneRef.current = true;
      dispatch({ type: 'finish' });
      onDone(r);
    },
    [onDone, dispatch],
  );

  useEffect(() => {
    let stale = false;
    setExisting('loading');
    deps.findExistingModel(answers).then(
      (model) => !stale && setExisting({ key: lookupKey, model }),
      () => !stale && setExisting({ key: lookupKey, model: null }),
    );
    return () => {
      stale = true;
    };
    // The lookup depends only on what lookupKey captures.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [lookupKey]);

  useEffect(() => {
    if (phase !== 'saving') return;
    deps.save(wizardAnswersToPatch(answers)).then(
      (n) => {
        setNotices(n ?? []);
        dispatch({ type: 'saved', trainNow: answers.trainNow && (!existingModel() || answers.retrainExisting) });
      },
      (err: unknown) => dispatch({ type: 'saveFailed', message: `could not write ${deps.configPath}: ${err instanceof Error ? err.message : String(err)}` }),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [phase]);

  const existingModel = () => (existing === 'loading' ? null : existing.model);
  const steps = stepsFor(answers, existingModel());
  const step = steps[Math.min(state.index, steps.length - 1)];
  const waitingForLookup = existing === 'loading' && (step.id === 'existingModel' || step.id === 'trainNow');

  useRoutedInput((input, key) => {
    if (key.ctrl && input === 'c') finish({ kind: 'cancelled', saved: state.saved, engine: engineRef.current });
  }, phase !== 'finished');

  const onAnswer = (value: string) => {
    if (checking) return;
    let next: WizardAnswers;
    try {
      next = step.kind === 'select' ? step.set(answers, value) : step.set(answers, value);
    } catch (err) {
      if (err instanceof WizardInputError) return dispatch({ type: 'error', message: err.message });
      throw err;
    }
    const accept = () => dispatch({ type: 'answer', answers: next, stepCount: stepsFor(next, existingModel()).length });
    // Symbols and a CSV folder are checked against the chosen source before the wizard moves on.
    const check = checkOf(step.id, next);
    if (!check) return accept();
    setChecking(true);
    check.then(
      (problem) => {
        setChecking(false);
        if (problem) dispatch({ type: 'error', message: problem });
        else accept();
      },
      (err: unknown) => {
        setChecking(false);
        dispatch({ type: 'error', message: `could not check: ${err instanceof Error ? err.message : String(err)}` });
      },
    );
  };

  /** The async check of an answer, resolving to the problem to show, or null. */
  const checkOf = (id: string, next: WizardAnswers): Promise<string | null> | null => {
    if (id === 'csvDir' && deps.checkCsvDir) return deps.checkCsvDir(next.csvDir);
    if ((id === 'symbols' || id === 'coreSymbols') && deps.checkSymbols) {
      const typed = id === 'symbols' ? next.symbols : next.coreSymbols;
      return deps.checkSymbols(next, typed).then((r) => {
        if (!r.rejected.length) return null;
        const offer = listing?.symbols ? `; ${listing.name} lists ${listing.symbols.slice(0, 12).join(', ')}${listing.symbols.length > 12 ? ', ...' : ''}` : '';
        return `${r.rejected.map((x) => `${x.symbol}: ${x.reason}`).join('; ')}${offer}`;
      });
    }
    return null;
  };

  const onTrained = useCallback((engine: EngineApi, done: TrainingOutcome[]) => {
    engineRef.current = engine;
    setOutcomes(done);
    dispatch({ type: 'trained' });
  }, [dispatch]);

  let body: React.ReactNode;
  if (phase === 'questions') {
    body = waitingForLookup ? (
      <St>Looking for compatible models…</St>
    ) : (
      <Box flexDirection="column">
        <St dim>{`Step ${state.index + 1} of ${steps.length}`}</St>
        <St bold wrap="wrap">{step.title}</St>
        <St dim wrap="wrap">{step.help}</St>
        {(step.id === 'symbols' || step.id === 'coreSymbols') && listing ? (
          <St dim wrap="wrap">
            {listing.symbols
              ? `Listed on ${listing.name} (${listing.symbols.length}): ${listing.symbols.slice(0, 30).join(', ')}${listing.symbols.length > 30 ? ', ...' : ''}`
              : `Not checked against ${listing.name}: ${listing.note ?? 'its market list is unavailable'}`}
          </St>
        ) : null}
        {checking ? <St dim>Checking…</St> : null}
        <StepView key={step.id} step={step} answers={answers} onAnswer={onAnswer} onBack={() => dispatch({ type: 'back' })} />
      </Box>
    );
  } else if (phase === 'saving') {
    body = <St>{`Writing ${deps.configPath}…`}</St>;
  } else if (phase === 'training') {
    body = (
      <TrainingStep
        startEngine={deps.startEngine}
        symbols={answers.coreSymbols}
        onFinished={onTrained}
        onError={(message) => {
          dispatch({ type: 'error', message });
          dispatch({ type: 'trained' });
        }}
        active
      />
    );
  } else if (phase === 'start') {
    body = (
      <Box flexDirection="column">
        <St>{`Saved ${deps.configPath}.`}</St>
        {notices.map((n) => (
          <St key={n} color="yellow" wrap="wrap">{`warning: ${n}`}</St>
        ))}
        {outcomes ? <TrainingSummary outcomes={outcomes} /> : null}
        <St bold>Start the bot now?</St>
        <St dim>Now opens the console (paper trading). Later prints how to start it (console, headless, systemd, tmux).</St>
        <Select
          options={[
            { value: 'start', label: 'Start now' },
            { value: 'later', label: 'Later: show me how' },
          ]}
          initial="start"
          onSelect={(v) => finish({ kind: v === 'start' ? 'start' : 'later', engine: engineRef.current })}
          onBack={() => undefined}
          active
        />
      </Box>
    );
  } else {
    body = <St>Done.</St>;
  }

  return (
    <Box flexDirection="column">
      <St bold color="cyan">kilo setup</St>
      {body}
      {state.error ? <St color="red" wrap="wrap">{`error: ${state.error}`}</St> : null}
      <St dim>{phase === 'questions' ? 'Enter accept · ↑/↓ choose · Esc back · Ctrl+C quit without saving' : 'Ctrl+C quit'}</St>
    </Box>
  );
}
