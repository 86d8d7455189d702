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
  return (await readLine(question, true)).trim();
}

/** A password: read without echoing what is typed. */
export function askSecret(question: string): Promise<string> {
  return readLine(question, false);
}

/**
 * Reads one line in raw mode, echoing it or not. Not node:readline: an interface closed after one
 * question leaves its keypress decoding on stdin, and the next question then echoes every key twice.
 */
/** What was typed (or pasted) after the line a question took: the answer to the next question. */
let typedAhead = '';

async function readLine(question: string, echo: boolean): Promise<string> {
  const stdin = process.stdin;
  const out = process.stderr;
  out.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = '';
      const onData = (chunk: string) => {
        // Arrow and function keys arrive as escape sequences: they edit nothing here.
        const chars = [...chunk.replace(/\u001b\[[0-9;]*[A-Za-z~]/g, '')];
        for (const [i, ch] of chars.entries()) {
          if (ch === '\r' || ch === '\n') {
            stdin.off('data', onData);
            typedAhead = chars.slice(i + 1).join('').replace(/^\n/, '');
            resolve(value);
            return;
          }
          // Ctrl-C or Ctrl-D: stop the command, having changed nothing.
          if (ch === '\u0003' || ch === '\u0004') {
            stdin.off('data', onData);
            reject(new CliError('cancelled; nothing was changed', EXIT.FAILURE));
            return;
          }
          if (ch === '\u007f' || ch === '\b') {
            if (echo && value.length > 0) out.write('\b \b');
            value = value.slice(0, -1);
          } else if (ch >= ' ') {
            value += ch;
            if (echo) out.write(ch);
          }
        }
      };
      stdin.on('data', onData);
      if (typedAhead !== '') {
        const ahead = typedAhead;
        typedAhead = '';
        onData(ahead);
      }
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    out.write('\n');
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
