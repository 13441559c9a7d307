/**
 * The wizard's questions as data: which appear depends on earlier answers (exchange id only for
 * the exchange source, encoding only for multi_symbol, threshold edits only when asked for).
 */
import { parseNumber, parseSymbolList, WizardInputError, type WizardAnswers } from './answers.js';

export interface ExistingModel {
  version: string;
  symbols: string[];
  trainingEnd: number | null;
  trainingMode: string;
}

interface Base {
  id: string;
  title: string;
  help: string;
}
export interface SelectStep extends Base {
  kind: 'select';
  options: { value: string; label: string }[];
  get: (a: WizardAnswers) => string;
  set: (a: WizardAnswers, value: string) => WizardAnswers;
}
export interface TextStep extends Base {
  kind: 'text';
  get: (a: WizardAnswers) => string;
  /** Throws WizardInputError with a message for the operator on bad input. */
  set: (a: WizardAnswers, text: string) => WizardAnswers;
}
export type Step = SelectStep | TextStep;

const yesNo = [
  { value: 'yes', label: 'Yes' },
  { value: 'no', label: 'No' },
];
const yn = (b: boolean) => (b ? 'yes' : 'no');

export function stepsFor(a: WizardAnswers, existing: ExistingModel | null): Step[] {
  const steps: Step[] = [
    {
      id: 'source',
      kind: 'select',
      title: 'Where do candles come from?',
      help: 'The offline simulator needs no network or keys; an exchange is read through ccxt (paper trading only).',
      options: [
        { value: 'sim', label: 'Offline simulator (seeded, no network)' },
        { value: 'exchange', label: 'Exchange via ccxt' },
        { value: 'csv', label: 'A folder of CSV files (timestamp,open,high,low,close,volume)' },
      ],
      get: (x) => x.source,
      set: (x, v) => ({ ...x, source: v as WizardAnswers['source'] }),
    },
  ];
  if (a.source === 'exchange') {
    steps.push({
      id: 'exchangeId',
      kind: 'text',
      title: 'Exchange id (ccxt)',
      help: 'For example binance, kraken, bybit. API keys are read from environment variables, never from this wizard.',
      get: (x) => x.exchangeId,
      set: (x, t) => {
        const id = t.trim().toLowerCase();
        if (!/^[a-z0-9]+$/.test(id)) throw new WizardInputError('an exchange id is lower-case letters and digits, like binance');
        return { ...x, exchangeId: id };
      },
    });
  }
  if (a.source === 'csv') {
    steps.push({
      id: 'csvDir',
      kind: 'text',
      title: 'CSV folder',
      help: 'One file per symbol, e.g. BTC-USDT.csv; relative paths are relative to the kilo home folder.',
      get: (x) => x.csvDir,
      set: (x, t) => {
        if (!t.trim()) throw new WizardInputError('enter a folder');
        return { ...x, csvDir: t.trim() };
      },
    });
  }
  steps.push(
    {
      id: 'symbols',
      kind: 'text',
      title: 'Universe: symbols to watch',
      help: 'Comma separated. Symbols without a model are trained or blocked per the auto-training settings.',
      get: (x) => x.symbols.join(', '),
      set: (x, t) => ({ ...x, symbols: parseSymbolList(t) }),
    },
    {
      id: 'coreSymbols',
      kind: 'text',
      title: 'Core symbols (trained first, always watched)',
      help: 'Comma separated; usually the most liquid pairs.',
      get: (x) => x.coreSymbols.join(', '),
      set: (x, t) => ({ ...x, coreSymbols: parseSymbolList(t) }),
    },
    {
      id: 'trainingMode',
      kind: 'select',
      title: 'Training mode',
      help: 'single_symbol: one model per symbol. multi_symbol: one model for all symbols with a symbol encoding.',
      options: [
        { value: 'single_symbol', label: 'single_symbol (one model per symbol)' },
        { value: 'multi_symbol', label: 'multi_symbol (one shared model)' },
      ],
      get: (x) => x.trainingMode,
      set: (x, v) => ({ ...x, trainingMode: v as WizardAnswers['trainingMode'] }),
    },
  );
  if (a.trainingMode === 'multi_symbol') {
    steps.push({
      id: 'encoding',
      kind: 'select',
      title: 'Symbol encoding',
      help: 'one_hot: a column per symbol (clearer, wider). index: one numeric column.',
      options: [
        { value: 'one_hot', label: 'one_hot' },
        { value: 'index', label: 'index' },
      ],
      get: (x) => x.encoding,
      set: (x, v) => ({ ...x, encoding: v as WizardAnswers['encoding'] }),
    });
  }
  steps.push({
    id: 'autoDefaults',
    kind: 'select',
    title: 'Auto-training settings',
    help: `Defaults: auto-train new symbols ${yn(a.autoTrainNew)}, block untrained ${yn(a.blockUntrained)}, block short history ${yn(a.blockShortHistory)}, ${a.targetHistoryDays} days of history, retrain below ${(a.minWinRate * 100).toFixed(0)}% win rate or after ${a.maxDaysBetweenRetrain} days.`,
    options: [
      { value: 'yes', label: 'Accept the defaults' },
      { value: 'no', label: 'Edit them' },
    ],
    get: (x) => yn(x.autoDefaults),
    set: (x, v) => ({ ...x, autoDefaults: v === 'yes' }),
  });
  if (!a.autoDefaults) {
    steps.push(
      {
        id: 'autoTrainNew',
        kind: 'select',
        title: 'Train new symbols automatically?',
        help: 'When a symbol without a model joins the universe, queue a quick training for it.',
        options: yesNo,
        get: (x) => yn(x.autoTrainNew),
        set: (x, v) => ({ ...x, autoTrainNew: v === 'yes' }),
      },
      {
        id: 'blockUntrained',
        kind: 'select',
        title: 'Block untrained symbols?',
        help: 'Yes: no trades for a symbol until a model exists. No: trade it on a fallback model.',
        options: yesNo,
        get: (x) => yn(x.blockUntrained),
        set: (x, v) => ({ ...x, blockUntrained: v === 'yes' }),
      },
      {
        id: 'blockShortHistory',
        kind: 'select',
        title: 'History policy: block symbols with too little history?',
        help: 'Yes: a symbol below the minimum history is blocked. No: it is trained on what exists.',
        options: yesNo,
        get: (x) => yn(x.blockShortHistory),
        set: (x, v) => ({ ...x, blockShortHistory: v === 'yes' }),
      },
      {
        id: 'targetHistoryDays',
        kind: 'text',
        title: 'Days of history to train on',
        help: 'More history: slower training, more regimes seen. 1 to 3650.',
        get: (x) => String(x.targetHistoryDays),
        set: (x, t) => ({ ...x, targetHistoryDays: Math.round(parseNumber(t, 1, 3650, 'days')) }),
      },
      {
        id: 'minWinRate',
        kind: 'text',
        title: 'Retrain when the win rate drops below (%)',
        help: 'Judged over the recent signals of a symbol. 0 to 100.',
        get: (x) => String(Math.round(x.minWinRate * 1000) / 10),
        set: (x, t) => ({ ...x, minWinRate: parseNumber(t, 0, 100, 'the win rate') / 100 }),
      },
      {
        id: 'maxDaysBetweenRetrain',
        kind: 'text',
        title: 'Retrain at least every (days)',
        help: 'A model older than this is retrained even if it performs. 1 to 365.',
        get: (x) => String(x.maxDaysBetweenRetrain),
        set: (x, t) => ({ ...x, maxDaysBetweenRetrain: parseNumber(t, 1, 365, 'days') }),
      },
    );
  }
  if (existing) {
    steps.push({
      id: 'existingModel',
      kind: 'select',
      title: `A compatible model exists: v${existing.version} (${existing.trainingMode}), symbols ${existing.symbols.join(', ') || '-'}, trained to ${existing.trainingEnd === null ? 'unknown' : new Date(existing.trainingEnd).toISOString().slice(0, 10)}. Retrain anyway?`,
      help: 'No keeps serving it; new symbols are still handled by the auto-training settings.',
      options: [
        { value: 'no', label: 'No, use it' },
        { value: 'yes', label: 'Yes, retrain anyway' },
      ],
      get: (x) => yn(x.retrainExisting),
      set: (x, v) => ({ ...x, retrainExisting: v === 'yes' }),
    });
  }
  if (!existing || a.retrainExisting) {
    steps.push({
      id: 'trainNow',
      kind: 'select',
      title: `Initial training of ${a.coreSymbols.join(', ')}`,
      help: 'Now: watch the progress here. Later: the engine queues it when it starts.',
      options: [
        { value: 'yes', label: 'Train now' },
        { value: 'no', label: 'Later' },
      ],
      get: (x) => yn(x.trainNow),
      set: (x, v) => ({ ...x, trainNow: v === 'yes' }),
    });
  }
  return steps;
}
