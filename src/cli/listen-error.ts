import { CliError, EXIT } from './cli-error.ts';

/**
 * Why the server cannot listen, when restarting it would not help: a configuration error (exit 6)
 * that says what to change, so `conveyor start` stops instead of restarting it forever.
 */
export function listenError(error: unknown, host: string, port: number): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  const change = '(set CONVEYOR__SERVER__PORT or --port)';
  if (code === 'EADDRINUSE') return new CliError(`port ${port} is in use ${change}`, EXIT.CONFIG);
  if (code === 'EACCES') return new CliError(`port ${port} needs privileges this process lacks ${change}`, EXIT.CONFIG);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return new CliError(`cannot listen on ${host}: no such address on this machine (set CONVEYOR__SERVER__HOST or --host)`, EXIT.CONFIG);
  return error;
}
