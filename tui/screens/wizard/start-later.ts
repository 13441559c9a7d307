/** What the wizard prints when the operator chooses to start the bot later. */
export function startLaterText(home: string, kiloBin = 'kilo'): string {
  const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return [
    'Start kilo later with one of:',
    '',
    `  console:   ${kiloBin} --home ${q(home)}`,
    `  headless:  ${kiloBin} --home ${q(home)} run --headless`,
    `  tmux:      tmux new-session -d -s kilo '${kiloBin} --home ${q(home)}'   (attach: tmux attach -t kilo)`,
    '',
    '  systemd (~/.config/systemd/user/kilo.service, then: systemctl --user enable --now kilo):',
    '    [Unit]',
    '    Description=kilo paper-trading bot',
    '    After=network-online.target',
    '    [Service]',
    `    ExecStart=${kiloBin} --home ${q(home)} run --headless`,
    '    Restart=on-failure',
    `    WorkingDirectory=${q(home)}`,
    '    [Install]',
    '    WantedBy=default.target',
  ].join('\n');
}
