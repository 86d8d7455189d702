/**
 * A minimal Redis client (RESP2 over one TCP socket, commands pipelined in order) with the surface of
 * Bun's RedisClient: `send(command, args)`, `connect()`, `close()`, `connected`, `onconnect`,
 * `onclose`, `duplicate()`. BullMQ 6 drives such a client through its own Bun adapter.
 *
 * Why it exists: BullMQ needs a Redis driver, `ioredis` or `redis`, as a peer dependency, and neither
 * is installed in this project. The BullMQ adapter uses `ioredis` when it can be imported and falls
 * back to this client otherwise; the results file records which one ran.
 */
import { connect as netConnect, type Socket } from 'node:net';

type Reply = string | number | null | Reply[] | Error;
type Arg = string | number | Buffer;

const CRLF = Buffer.from('\r\n');
const INCOMPLETE = Symbol('incomplete');

export class RespClient {
  readonly url: string;
  connected = false;
  onconnect: (() => void) | null = null;
  onclose: ((error?: Error) => void) | null = null;
  onerror: ((error: Error) => void) | null = null;
  #socket: Socket | null = null;
  #connecting: Promise<void> | null = null;
  readonly #pending: { resolve: (value: Reply) => void; reject: (error: Error) => void }[] = [];
  #buffer: Buffer = Buffer.alloc(0);
  #corked = false;

  constructor(url: string) {
    this.url = url;
  }

  connect(): Promise<void> {
    if (this.connected) return Promise.resolve();
    this.#connecting ??= new Promise<void>((resolve, reject) => {
      const target = new URL(this.url);
      const socket = netConnect({ host: target.hostname || '127.0.0.1', port: Number(target.port || 6379) });
      socket.setNoDelay(true);
      this.#socket = socket;
      socket.once('connect', () => {
        this.connected = true;
        this.#connecting = null;
        resolve();
        this.onconnect?.();
      });
      socket.on('data', (chunk: Buffer) => this.#receive(chunk));
      socket.on('error', (error) => {
        if (!this.connected) reject(error);
        this.onerror?.(error);
      });
      socket.on('close', () => {
        const wasConnected = this.connected;
        this.connected = false;
        this.#connecting = null;
        this.#socket = null;
        const error = new Error('Connection closed');
        for (const pending of this.#pending.splice(0)) pending.reject(error);
        if (wasConnected) this.onclose?.();
      });
    });
    return this.#connecting;
  }

  async send(command: string, args: readonly Arg[] = []): Promise<unknown> {
    if (!this.connected) await this.connect();
    const socket = this.#socket;
    if (!socket) throw new Error('Connection closed');
    const parts: Buffer[] = [Buffer.from(`*${args.length + 1}\r\n`)];
    for (const arg of [command, ...args]) {
      const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg));
      parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
    }
    // Gather the commands issued in one turn into one write, as drivers do.
    if (!this.#corked) {
      this.#corked = true;
      socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        socket.uncork();
      });
    }
    socket.write(Buffer.concat(parts));
    const reply = await new Promise<Reply>((resolve, reject) => this.#pending.push({ resolve, reject }));
    if (reply instanceof Error) throw reply;
    return reply;
  }

  close(): void {
    this.#socket?.end();
  }

  disconnect(): void {
    this.close();
  }

  /** Synchronous (Bun's is async): BullMQ duplicates a caller's client without awaiting it. */
  duplicate(): RespClient {
    return new RespClient(this.url);
  }

  #receive(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    let offset = 0;
    for (;;) {
      const parsed = parseReply(this.#buffer, offset);
      if (parsed === INCOMPLETE) break;
      offset = parsed.next;
      this.#pending.shift()?.resolve(parsed.value);
    }
    this.#buffer = offset >= this.#buffer.length ? Buffer.alloc(0) : this.#buffer.subarray(offset);
  }
}

function parseReply(buffer: Buffer, offset: number): { value: Reply; next: number } | typeof INCOMPLETE {
  const lineEnd = buffer.indexOf(CRLF, offset);
  if (lineEnd < 0) return INCOMPLETE;
  const type = String.fromCharCode(buffer[offset]!);
  const line = buffer.toString('utf8', offset + 1, lineEnd);
  const after = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, next: after };
    case '-':
      return { value: new Error(line), next: after };
    case ':':
      return { value: Number(line), next: after };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, next: after };
      if (buffer.length < after + length + 2) return INCOMPLETE;
      return { value: buffer.toString('utf8', after, after + length), next: after + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, next: after };
      const items: Reply[] = [];
      let next = after;
      for (let n = 0; n < count; n++) {
        const item = parseReply(buffer, next);
        if (item === INCOMPLETE) return INCOMPLETE;
        items.push(item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      throw new Error(`unexpected RESP type ${JSON.stringify(type)}`);
  }
}
