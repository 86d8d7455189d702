import { createInterface } from 'node:readline';
import { CliError, EXIT } from './cli-error.ts';

/**
 * Questions to the person at the terminal. They are asked on stderr, so that a command's stdout (a
 * table, or --json for a script) carries only its result.
 */

/** True when someone can answer: stdin and stderr are both a terminal. */
export function canAsk(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true;
}

/** One line typed by the user, trimmed. */
export async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return await new Promise<string>((resolve, reject) => {
      // Ctrl-C or Ctrl-D at the prompt: stop the command, having done nothing.
      rl.once('SIGINT', () => reject(new CliError('cancelled; nothing was changed', EXIT.FAILURE)));
      rl.once('close', () => reject(new CliError('cancelled; nothing was changed', EXIT.FAILURE)));
      rl.question(question, (answer) => resolve(answer.trim()));
    });
  } finally {
    rl.removeAllListeners('close');
    rl.close();
  }
}

/** A password: read without echoing what is typed. */
export async function askSecret(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = '';
      const onData = (chunk: string) => {
        for (const ch of chunk) {
          if (ch === '\r' || ch === '\n') {
            stdin.off('data', onData);
            resolve(value);
            return;
          }
          if (ch === '\u0003' || ch === '\u0004') {
            stdin.off('data', onData);
            reject(new CliError('cancelled; nothing was changed', EXIT.FAILURE));
            return;
          }
          if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
          else if (ch >= ' ') value += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}

/**
 * The rule for every command that deletes: with --yes, go ahead; on a terminal, ask (the question says
 * what and how many); with no terminal and no --yes, refuse with a usage error, so a script never
 * deletes by accident. A "no" ends the command with exit 1, nothing deleted.
 */
export async function confirmDeletion(what: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!canAsk()) throw new CliError(`${what}: not deleted without confirmation; add --yes to delete (there is no terminal to ask on)`, EXIT.USAGE);
  const answer = await ask(`${what}. Delete? [y/N] `);
  if (!/^y(es)?$/i.test(answer)) throw new CliError('nothing was deleted', EXIT.FAILURE);
}
