import type { WorkerRecord } from '../../store/engine.ts';
import { iso } from './iso.ts';

/**
 * A worker is live while its last heartbeat is at most `liveMs` old (server.worker_live_ms); the rest
 * may be dead or partitioned. The one rule for the API, the metrics, `conveyor workers` and doctor.
 */
export function isWorkerLive(worker: WorkerRecord, now: Date, liveMs: number): boolean {
  return now.getTime() - worker.lastHeartbeatAt.getTime() <= liveMs;
}

/** The task types of each live worker (core/type-handling.ts's input). */
export function liveWorkerTaskTypes(workers: readonly WorkerRecord[], now: Date, liveMs: number): string[][] {
  return workers.filter((w) => isWorkerLive(w, now, liveMs)).map((w) => w.taskTypes);
}

/** A worker as GET /workers and `conveyor workers --json` show it. */
export function workerView(worker: WorkerRecord, now: Date, liveMs: number) {
  return {
    id: worker.id,
    host: worker.host,
    pid: worker.pid,
    concurrency: worker.concurrency,
    running: worker.running,
    task_types: worker.taskTypes,
    started_at: iso(worker.startedAt),
    last_heartbeat_at: iso(worker.lastHeartbeatAt),
    live: isWorkerLive(worker, now, liveMs),
  };
}
