import { useKeymapInput } from './use-keymap-input.js';

export interface LogsInput {
  cycleLevel: () => void;
  startSearch: () => void;
  clearSearch: () => void;
  active: boolean;
}

export function useLogsInput({ cycleLevel, startSearch, clearSearch, active }: LogsInput): void {
  useKeymapInput('logs', { 'logs.level': cycleLevel, 'logs.search': startSearch, 'logs.clear': clearSearch }, active);
}
