import { useKeymapInput } from './use-keymap-input.js';

export interface HeartbeatInput {
  count: number;
  setIndex: (update: (i: number) => number) => void;
  active: boolean;
}

export function useHeartbeatInput({ count, setIndex, active }: HeartbeatInput): void {
  useKeymapInput(
    'heartbeat',
    {
      'row.up': () => setIndex((i) => Math.max(0, Math.min(i, count - 1) - 1)),
      'row.down': () => setIndex((i) => Math.max(0, Math.min(count - 1, i + 1))),
    },
    active,
  );
}
