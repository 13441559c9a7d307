/**
 * Regenerates template.ts from the root config.example.yaml: `npx tsx src/config/gen-template.ts`.
 * The template ships inside the code so `kilo setup` works from an installed package, where the
 * repo's config.yaml is not around; test/config/template.test.ts keeps the two identical.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../config.example.yaml', import.meta.url));
const out = fileURLToPath(new URL('./template.ts', import.meta.url));
const text = readFileSync(root, 'utf8');
const escaped = text.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${');
writeFileSync(
  out,
  `// Generated from config.example.yaml by src/config/gen-template.ts; edit config.example.yaml and rerun it.\n` +
    `export const CONFIG_TEMPLATE = \`${escaped}\`;\n`,
);
