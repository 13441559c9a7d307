/**
 * Repeating conditions (a symbol whose data keeps failing, an asset that cannot be judged) are
 * logged when they start, when they change, and when they end with how many times they were seen -
 * not once per round, which floods the log at hundreds of symbols. A change is a different message
 * once its numbers are set aside: a retried request names a new time range every round, which is
 * the same outage.
 */
import type { Logger } from '../log/logger.js';

export class ConditionLog {
  private readonly open = new Map<string, { message: string; sig: string; count: number }>();

  constructor(private readonly logger: Logger) {}

  /** `message` null: the condition is over (logged only if it was open). */
  report(key: string, message: string | null, symbol?: string): void {
    const cur = this.open.get(key);
    if (message === null) {
      if (!cur) return;
      this.open.delete(key);
      this.logger.info(`${key}: resolved after ${cur.count} occurrence${cur.count === 1 ? '' : 's'} (last: ${cur.message})`, symbol);
      return;
    }
    const sig = message.replace(/\d+(\.\d+)?/g, '#');
    if (cur && cur.sig === sig) {
      cur.count += 1;
      cur.message = message;
      return;
    }
    this.open.set(key, { message, sig, count: 1 });
    this.logger.warn(cur ? `${message} (was: ${cur.message}, ${cur.count}x)` : message, symbol);
  }

  /** Keys currently open (for tests and the status view). */
  active(): string[] {
    return [...this.open.keys()];
  }
}
