/**
 * Repeating conditions of the round (a symbol whose data keeps failing, an asset that cannot be
 * judged) go to the logger's conditions (logged when they start, change and end, with a count).
 * What counts as a change here is a different message once its numbers are set aside: a retried
 * request names a new time range every round, and that is still the same outage.
 */
import type { Logger } from '../log/logger.js';

export class ConditionLog {
  private readonly sigs = new Map<string, string>();
  /** The message logged when the condition began: the logger counts repeats of it. */
  private readonly first = new Map<string, string>();

  constructor(private readonly logger: Logger) {}

  /** `message` null: the condition is over (logged, with `endMessage` if given, only if it was on). */
  report(key: string, message: string | null, symbol?: string, endMessage?: string): void {
    if (message === null) {
      this.first.delete(key);
      if (this.sigs.delete(key)) this.logger.endCondition(key, endMessage);
      return;
    }
    const sig = message.replace(/\d+(\.\d+)?/g, '#');
    if (this.sigs.get(key) === sig) {
      // Same condition: let the logger count it without logging it again.
      this.logger.condition(key, 'warn', this.first.get(key) ?? message, symbol);
      return;
    }
    this.sigs.set(key, sig);
    this.first.set(key, message);
    this.logger.condition(key, 'warn', message, symbol);
  }
}
