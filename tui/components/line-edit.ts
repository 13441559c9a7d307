/**
 * Pure line editing for the console's one-line inputs: the `:` command line, the logs search, the
 * wizard's text steps. A cursor that moves, words, history and Tab completion; no ink here.
 */
export interface LineState {
  text: string;
  /** 0..text.length */
  cursor: number;
}

export type LineAction =
  | { type: 'insert'; text: string }
  | { type: 'backspace' }
  | { type: 'delete' }
  | { type: 'left' }
  | { type: 'right' }
  | { type: 'wordLeft' }
  | { type: 'wordRight' }
  | { type: 'home' }
  | { type: 'end' }
  | { type: 'clear' }
  | { type: 'killEnd' }
  | { type: 'killWord' }
  | { type: 'set'; text: string };

const clamp = (n: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, n));

export function editLine(s: LineState, a: LineAction): LineState {
  const { text } = s;
  const cur = clamp(s.cursor, 0, text.length);
  switch (a.type) {
    case 'insert': {
      // Printable characters only; a pasted chunk may carry DEL/BS, which delete as they would typed.
      let t = text.slice(0, cur);
      const rest = text.slice(cur);
      for (const ch of a.text) {
        if (ch === '\x7f' || ch === '\b') t = t.slice(0, -1);
        else if (ch === '\x15') t = '';
        else if (ch >= ' ') t += ch;
      }
      return { text: t + rest, cursor: t.length };
    }
    case 'backspace':
      return cur === 0 ? { text, cursor: 0 } : { text: text.slice(0, cur - 1) + text.slice(cur), cursor: cur - 1 };
    case 'delete':
      return { text: text.slice(0, cur) + text.slice(cur + 1), cursor: cur };
    case 'left':
      return { text, cursor: Math.max(0, cur - 1) };
    case 'right':
      return { text, cursor: Math.min(text.length, cur + 1) };
    case 'wordLeft': {
      let i = cur;
      while (i > 0 && text[i - 1] === ' ') i--;
      while (i > 0 && text[i - 1] !== ' ') i--;
      return { text, cursor: i };
    }
    case 'wordRight': {
      let i = cur;
      while (i < text.length && text[i] === ' ') i++;
      while (i < text.length && text[i] !== ' ') i++;
      return { text, cursor: i };
    }
    case 'home':
      return { text, cursor: 0 };
    case 'end':
      return { text, cursor: text.length };
    case 'clear':
      return { text: '', cursor: 0 };
    case 'killEnd':
      return { text: text.slice(0, cur), cursor: cur };
    case 'killWord': {
      const w = editLine(s, { type: 'wordLeft' }).cursor;
      return { text: text.slice(0, w) + text.slice(cur), cursor: w };
    }
    case 'set':
      return { text: a.text, cursor: a.text.length };
  }
}

/** Moving through what was entered before, like a shell: ↑ older, ↓ newer, past the newest the draft. */
export interface HistoryState {
  /** Index into the history while browsing it, null while editing the draft. */
  at: number | null;
  draft: string;
}

export function historyStep(history: readonly string[], h: HistoryState, current: string, dir: 'up' | 'down'): { h: HistoryState; text: string } | null {
  if (!history.length) return null;
  if (dir === 'up') {
    const at = h.at === null ? history.length - 1 : Math.max(0, h.at - 1);
    return { h: { at, draft: h.at === null ? current : h.draft }, text: history[at] };
  }
  if (h.at === null) return null;
  if (h.at >= history.length - 1) return { h: { at: null, draft: '' }, text: h.draft };
  return { h: { at: h.at + 1, draft: h.draft }, text: history[h.at + 1] };
}

export interface Completion extends LineState {
  /** Every candidate when more than one fits (shown beside the line). */
  options: string[];
}

const commonPrefix = (xs: readonly string[]): string => {
  if (!xs.length) return '';
  let p = xs[0];
  for (const x of xs) while (!x.toLowerCase().startsWith(p.toLowerCase())) p = p.slice(0, -1);
  return p;
};

/**
 * Tab: complete the word at the cursor from `candidates(wordIndex, words)`. One match is completed
 * with a space after it; several extend the word to their common prefix and are listed.
 */
export function completeLine(s: LineState, candidates: (index: number, words: readonly string[]) => readonly string[]): Completion {
  const before = s.text.slice(0, s.cursor);
  const after = s.text.slice(s.cursor);
  const words = before.split(' ');
  const word = words[words.length - 1];
  const pool = candidates(words.length - 1, words.slice(0, -1));
  const matches = [...new Set(pool.filter((c) => c.toLowerCase().startsWith(word.toLowerCase())))];
  if (matches.length === 0) return { ...s, options: [] };
  const head = before.slice(0, before.length - word.length);
  if (matches.length === 1) {
    const done = `${head}${matches[0]}${after.startsWith(' ') ? '' : ' '}`;
    return { text: done + after, cursor: done.length, options: [] };
  }
  const prefix = commonPrefix(matches);
  const grown = prefix.length > word.length ? `${head}${prefix}` : before;
  return { text: grown + after, cursor: grown.length, options: matches };
}
