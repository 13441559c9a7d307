/**
 * data/engine-state.json: what the engine needs to resume where it stopped - the simulated market
 * time (sim / CSV replay), operator blocks and the paper portfolio. Written through the guarded
 * lowdb store (temp + rename, with a .bak last good copy).
 */
import { z } from 'zod';
import { GuardedStore } from '../trading/guarded-store.js';

const stateSchema = z.strictObject({
  version: z.literal(1),
  marketTime: z.number().nullable(),
  manualBlocks: z.record(z.string(), z.string()),
  broker: z.unknown().nullable(),
});

export type EngineState = z.infer<typeof stateSchema>;

export class EngineStateFile {
  private constructor(private readonly store: GuardedStore<EngineState>) {}

  static async open(file: string, onWarn?: (m: string) => void): Promise<EngineStateFile> {
    const store = await GuardedStore.open<EngineState>(file, {
      defaults: () => ({ version: 1, marketTime: null, manualBlocks: {}, broker: null }),
      parse: (raw) => {
        const r = stateSchema.safeParse(raw);
        if (!r.success) {
          const i = r.error.issues[0];
          throw new Error(`${i.path.join('.') || '(root)'}: ${i.message}`);
        }
        return r.data;
      },
      onWarn,
    });
    return new EngineStateFile(store);
  }

  get data(): EngineState {
    return this.store.data;
  }

  async save(patch: Omit<EngineState, 'version'>): Promise<void> {
    this.store.data = { version: 1, ...patch };
    await this.store.write();
  }
}
