/**
 * What the wizard prints when the operator chooses to start the bot later. Every command uses
 * absolute paths to this node and this checkout's bin/kilo.js: after `npm ci` in a clone, `kilo`
 * is not on PATH, and systemd does not search it anyway.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface KiloCommand {
  /** The node binary. @default process.execPath */
  node: string;
  /** bin/kilo.js of this checkout. */
  bin: string;
}

/** This checkout's bin/kilo.js, from tui/screens/wizard/ (sources) or dist/tui/screens/wizard/ (tsc). */
export function defaultKiloCommand(): KiloCommand {
  const here = dirname(fileURLToPath(import.meta.url));
  const up = here.includes(`${join('dist', 'tui')}`) ? '../../../..' : '../../..';
  return { node: process.execPath, bin: join(resolve(here, up), 'bin', 'kilo.js') };
}

/** POSIX shell quoting, for the lines an operator pastes into a shell. */
const sh = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
/** systemd quoting: double quotes with \ and " escaped, % doubled (specifiers). */
const sd = (s: string): string => {
  const t = s.replace(/%/g, '%%');
  return /^[\w@%+=:,./-]+$/.test(t) ? t : `"${t.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
};

/** A user unit for `kilo run --headless` on this home: copy to ~/.config/systemd/user/kilo.service. */
export function systemdUnit(home: string, kilo: KiloCommand = defaultKiloCommand()): string {
  return [
    '[Unit]',
    `Description=kilo paper-trading bot (${home.replace(/%/g, '%%')})`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `WorkingDirectory=${sd(home)}`,
    `ExecStart=${sd(kilo.node)} ${sd(kilo.bin)} --home ${sd(home)} run --headless`,
    // SIGTERM stops it cleanly with exit 0; anything else is a failure worth a restart.
    'Restart=on-failure',
    'RestartSec=10',
    'TimeoutStopSec=120',
    '',
    '[Install]',
    'WantedBy=default.target',
  ].join('\n');
}

export function startLaterText(home: string, kilo: KiloCommand = defaultKiloCommand()): string {
  const k = `${sh(kilo.node)} ${sh(kilo.bin)}`;
  return [
    'Start kilo later with one of:',
    '',
    `  console:   ${k} --home ${sh(home)}`,
    `  headless:  ${k} --home ${sh(home)} run --headless`,
    `  tmux:      tmux new-session -d -s kilo ${sh(`${k} --home ${sh(home)}`)}   (attach: tmux attach -t kilo)`,
    '',
    '  systemd: save this as ~/.config/systemd/user/kilo.service, then: systemctl --user daemon-reload && systemctl --user enable --now kilo',
    '  (status: systemctl --user status kilo; log: journalctl --user -u kilo -f; stop: systemctl --user stop kilo)',
    '',
    ...systemdUnit(home, kilo)
      .split('\n')
      .map((l) => `    ${l}`),
  ].join('\n');
}
