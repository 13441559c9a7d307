import { readFile } from 'node:fs/promises';
import YAML, { LineCounter, isMap, isNode, isPair, isScalar, isSeq, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';
import { ConfigError, ConfigNotFoundError, type ConfigProblem } from './errors.js';

export { ConfigError, ConfigNotFoundError, type ConfigProblem } from './errors.js';

export interface LoadedConfig {
  config: Config;
  /** The parsed document, kept so callers can show or edit it without losing comments. */
  doc: Document;
}

/** The file's text; a missing file is a ConfigNotFoundError naming it. */
export async function readConfigText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ConfigNotFoundError(path);
    throw err;
  }
}

/** Read and validate a config file. Never writes anything. */
export async function loadConfig(path: string): Promise<LoadedConfig> {
  return parseConfigText(await readConfigText(path), path);
}

/** Parse + validate text that claims to be `file` (the name only appears in messages). */
export function parseConfigText(text: string, file: string): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({
        path: '',
        line: e.linePos?.[0]?.line ?? lineOf(lineCounter, e.pos[0]),
        message: `invalid YAML: ${firstLine(e.message)}`,
      })),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS() ?? {};
  } catch (err) {
    // yaml refuses to expand an alias bomb (ReferenceError "Excessive alias count"): name the file.
    throw new ConfigError(file, [{ path: '', line: null, message: `invalid YAML: ${firstLine((err as Error).message)}` }]);
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(file, issuesToProblems(result.error.issues, doc, lineCounter, raw));
  }
  return { config: result.data, doc };
}

const firstLine = (s: string): string => s.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');

const lineOf = (lc: LineCounter, offset: number | undefined): number | null =>
  offset === undefined ? null : lc.linePos(offset).line;

/** Map zod issues to one problem each, with the line of the yaml node they concern. */
export function issuesToProblems(
  issues: readonly z.core.$ZodIssue[],
  doc: Document,
  lc: LineCounter,
  raw: unknown,
): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const issue of issues) {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const keyPath = [...path, key];
        out.push({ path: keyPath.join('.'), line: keyLine(doc, lc, keyPath), message: 'unknown key' });
      }
      continue;
    }
    out.push({ path: path.join('.'), line: valueLine(doc, lc, path), message: describe(issue, valueAt(raw, path)) });
  }
  return out;
}

function describe(issue: z.core.$ZodIssue, value: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      return value === undefined ? `required ${issue.expected}` : `expected ${issue.expected}, got ${typeName(value)}`;
    case 'too_big':
      return `must be ${issue.inclusive === false ? '<' : '<='} ${String(issue.maximum)}, got ${JSON.stringify(value)}`;
    case 'too_small':
      return `must be ${issue.inclusive === false ? '>' : '>='} ${String(issue.minimum)}, got ${JSON.stringify(value)}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(value)}`;
    default:
      return `${issue.message}${value === undefined ? '' : `, got ${JSON.stringify(value)}`}`;
  }
}

const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function valueAt(raw: unknown, path: string[]): unknown {
  let cur: unknown = raw;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** Deepest node along `path`: the value itself, or the closest ancestor when the key is absent. */
function valueLine(doc: Document, lc: LineCounter, path: string[]): number | null {
  let node: unknown = doc.contents;
  let line = lineOf(lc, isNode(node) ? node.range?.[0] : undefined);
  for (const k of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === k);
      if (!pair) break;
      const keyNode = pair.key as Node;
      line = lineOf(lc, keyNode.range?.[0]) ?? line;
      node = pair.value;
      // Put the line on the value when it is a scalar on its own (`window: "x"`), else the key.
      if (isScalar(node) && node.range) line = lineOf(lc, node.range[0]);
    } else if (isSeq(node)) {
      node = node.items[Number(k)];
      if (!isNode(node)) break;
      line = lineOf(lc, node.range?.[0]) ?? line;
    } else break;
  }
  return line;
}

function keyLine(doc: Document, lc: LineCounter, path: string[]): number | null {
  const parent = doc.getIn(path.slice(0, -1), true);
  const container = path.length === 1 ? doc.contents : parent;
  if (isMap(container)) {
    const pair = container.items.find((p) => isScalar(p.key) && String(p.key.value) === path[path.length - 1]);
    if (pair && isNode(pair.key)) return lineOf(lc, pair.key.range?.[0]);
  }
  return valueLine(doc, lc, path.slice(0, -1));
}
