import { useReducer } from 'react';
import type { WizardAnswers } from './answers.js';

export type Phase = 'questions' | 'saving' | 'training' | 'start' | 'finished';

export interface WizardState {
  answers: WizardAnswers;
  index: number;
  phase: Phase;
  error: string | null;
  saved: boolean;
}

export type WizardAction =
  | { type: 'answer'; answers: WizardAnswers; stepCount: number }
  | { type: 'back' }
  | { type: 'error'; message: string }
  | { type: 'saved'; trainNow: boolean }
  | { type: 'saveFailed'; message: string }
  | { type: 'trained' }
  | { type: 'finish' };

/** Pure transitions of the wizard (the reducer pattern of @inkjs/ui's use-select-state). */
export function wizardReducer(s: WizardState, a: WizardAction): WizardState {
  switch (a.type) {
    case 'answer': {
      const index = s.index + 1;
      // stepCount is the length of the step list computed with the new answers.
      return index >= a.stepCount ? { ...s, answers: a.answers, index, phase: 'saving', error: null } : { ...s, answers: a.answers, index, error: null };
    }
    case 'back':
      return s.phase === 'questions' ? { ...s, index: Math.max(0, s.index - 1), error: null } : s;
    case 'error':
      return { ...s, error: a.message };
    case 'saved':
      return { ...s, saved: true, phase: a.trainNow ? 'training' : 'start', error: null };
    case 'saveFailed':
      return { ...s, phase: 'questions', index: Math.max(0, s.index - 1), error: a.message };
    case 'trained':
      return s.phase === 'training' ? { ...s, phase: 'start' } : s;
    case 'finish':
      return { ...s, phase: 'finished' };
  }
}

export function useWizardState(initial: WizardAnswers) {
  return useReducer(wizardReducer, { answers: initial, index: 0, phase: 'questions', error: null, saved: false });
}
