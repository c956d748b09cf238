import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A value that must never reach a log, a report, a metric or an error message.
 * Every way of turning it into text yields `[redacted]`; only `reveal()` gives the value back.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/** Replaces the password of a connection URL, for messages that must name the server. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = 'redacted';
    return parsed.toString();
  } catch {
    return REDACTED;
  }
}

/** Removes every occurrence of the given secrets from a piece of text (error messages from drivers). */
export function scrubSecrets(text: string, secrets: readonly (Secret | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    const value = secret?.reveal();
    if (!value || value.length < 4) continue;
    out = out.split(value).join(REDACTED);
    // Connection strings also carry the password alone, and sometimes URL-encoded.
    try {
      const password = decodeURIComponent(new URL(value).password);
      if (password.length >= 4) out = out.split(password).join(REDACTED);
    } catch {
      // not a URL: only the whole value is a secret
    }
  }
  return out;
}
