import type { EngineApi, ModelVersionView } from '../../src/engine-api.js';
import { useKeymapInput } from './use-keymap-input.js';
import type { Report } from './use-report.js';
import { useRunCommand } from './use-report.js';

export interface ModelsInput {
  engine: EngineApi;
  models: readonly ModelVersionView[];
  index: number;
  setIndex: (update: (i: number) => number) => void;
  selectedSymbol: string | null;
  report: Report;
  active: boolean;
}

export function useModelsInput({ engine, models, index, setIndex, selectedSymbol, report, active }: ModelsInput): void {
  const run = useRunCommand(report);
  useKeymapInput(
    'models',
    {
      'row.up': () => setIndex((i) => Math.max(0, Math.min(i, models.length - 1) - 1)),
      'row.down': () => setIndex((i) => Math.max(0, Math.min(models.length - 1, i + 1))),
      'model.pin': () => {
        const m = models[index];
        if (m) run(() => engine.pinModel(m.version));
      },
      'model.unpin': () => run(() => engine.pinModel(null)),
      'symbol.retrain': () => {
        if (!selectedSymbol) return report({ ok: false, message: 'no symbol selected (pick one on the heartbeat panel)' });
        run(() => engine.train({ symbol: selectedSymbol, force: true, reason: 'operator retrain (models panel)' }));
      },
      'symbol.rollback': () => {
        if (!selectedSymbol) return report({ ok: false, message: 'no symbol selected (pick one on the heartbeat panel)' });
        run(() => engine.rollback(selectedSymbol, 'rolled back by the operator (models panel)'));
      },
    },
    active,
  );
}
