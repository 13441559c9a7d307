import React from 'react';
import { St } from './styled.js';

/** `[#####-----]`-style bar; fraction is clamped to 0..1. */
export function progressBar(fraction: number, width: number): string {
  const inner = Math.max(1, width - 2);
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const full = Math.round(f * inner);
  return `[${'█'.repeat(full)}${'░'.repeat(inner - full)}]`;
}

export interface ProgressBarProps {
  fraction: number;
  /** @default 20 */
  width?: number;
  color?: string;
}

export function ProgressBar({ fraction, width = 20, color = 'cyan' }: ProgressBarProps): React.ReactElement {
  return <St color={color}>{progressBar(fraction, width)}</St>;
}
