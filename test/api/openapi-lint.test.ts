import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openApiDocument } from '../../scripts/openapi-document.ts';

const run = promisify(execFile);
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

interface LintReport {
  totals: { errors: number; warnings: number; ignored: number };
  problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[];
}

type Operation = Record<string, any>;

/** The document /api-docs/openapi.json serves, built from the app without a server. */
describe('the OpenAPI document', () => {
  let dir: string;
  let doc: Record<string, any>;
  let operations: { method: string; path: string; op: Operation }[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'conveyor-openapi-'));
    doc = await openApiDocument();
    operations = Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method]! })),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('passes `redocly lint` with the recommended rules: no error, no warning', async () => {
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(doc, null, 2));
    const cli = join(process.cwd(), 'node_modules', '.bin', 'redocly');
    // Exit code 1 means errors; the JSON report on stdout says which, so read it either way.
    const result = await run(cli, ['lint', file, '--config', join(process.cwd(), 'redocly.yaml'), '--format', 'json'], {
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
      maxBuffer: 64 * 1024 * 1024,
    }).catch((error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? '' }));
    const report = JSON.parse(result.stdout.slice(result.stdout.indexOf('{'))) as LintReport;
    const problems = report.problems.map((p) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`);
    expect(problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  test('every operation has a unique readable operationId, a tag, a summary and its security', () => {
    expect(operations.length).toBeGreaterThan(30);
    const ids = operations.map(({ op }) => op.operationId);
    for (const { method, path, op } of operations) {
      expect(op.operationId, `${method} ${path}`).toMatch(/^[a-z][A-Za-z]+$/);
      expect(op.tags?.length, `${method} ${path}`).toBe(1);
      expect(op.summary, `${method} ${path}`).toBeTruthy();
      expect(op.security, `${method} ${path}`).toBeDefined();
    }
    expect(new Set(ids).size).toBe(ids.length);
    // The guide's flow, by name (the generated clients' method names).
    expect(ids).toEqual(expect.arrayContaining(['register', 'login', 'createTask', 'listTasks', 'getTask', 'getTaskStats', 'cancelTask', 'retryTask', 'listDeadLetter']));
    // The /api/v1 copies of the routes are hidden, so nothing appears twice.
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/api/v1'))).toEqual([]);
  });

  test('public routes need no token; every other route declares bearer auth and answers 401', () => {
    const publicIds = operations.filter(({ op }) => op.security.length === 0).map(({ op }) => op.operationId);
    expect(publicIds.sort()).toEqual(['getHealth', 'getLiveness', 'getReadiness', 'login', 'register', 'resetPassword']);
    for (const { op } of operations.filter(({ op }) => op.security.length > 0)) {
      expect(op.security, op.operationId).toEqual([{ bearerAuth: [] }]);
      expect(op.responses['401'], op.operationId).toEqual({ $ref: '#/components/responses/Unauthorized' });
    }
  });

  test('every error answer is one of the shared error responses, each with the envelope and an example', () => {
    const shared = doc.components.responses as Record<string, any>;
    for (const { op } of operations) {
      expect(op.responses.default, op.operationId).toEqual({ $ref: '#/components/responses/UnexpectedError' });
      for (const [status, answer] of Object.entries(op.responses as Record<string, any>)) {
        if (status.startsWith('2')) continue;
        expect(answer.$ref, `${op.operationId} ${status}`).toMatch(/^#\/components\/responses\/\w+$/);
      }
    }
    for (const [name, response] of Object.entries(shared)) {
      const media = response.content['application/json'];
      expect(media.schema, name).toEqual({ $ref: '#/components/schemas/ErrorEnvelope' });
      expect(media.example.success, name).toBe(false);
      expect(media.example.error.code, name).toMatch(/^[A-Z_]+$/);
    }
    // What the routes say of their own errors survives: a finished task cannot be cancelled (409),
    // an admin route refuses users (403), a creation is rate limited (429).
    const byId = Object.fromEntries(operations.map(({ op }) => [op.operationId, op]));
    expect(byId.cancelTask!.responses['409']).toEqual({ $ref: '#/components/responses/Conflict' });
    expect(byId.cancelTask!.responses['404']).toEqual({ $ref: '#/components/responses/NotFound' });
    expect(byId.updateUser!.responses['403']).toEqual({ $ref: '#/components/responses/Forbidden' });
    expect(byId.createTask!.responses['429']).toEqual({ $ref: '#/components/responses/TooManyRequests' });
    expect(byId.createTask!.responses['413']).toEqual({ $ref: '#/components/responses/PayloadTooLarge' });
  });

  test('every operation shows an example answer, and every request body an example', () => {
    for (const { op } of operations) {
      const success = Object.entries(op.responses as Record<string, any>).filter(([status]) => status.startsWith('2'));
      expect(success.length, op.operationId).toBeGreaterThan(0);
      for (const [status, answer] of success) {
        // JSON answers show an example; a download (a file as it is) or a stream may show none.
        const json = answer.content?.['application/json'];
        if (json && json.schema.format !== 'binary') expect(json.example, `${op.operationId} ${status}`).toBeDefined();
      }
      if (op.requestBody) expect(op.requestBody.content['application/json'].example, op.operationId).toBeDefined();
    }
    const created = doc.paths['/tasks'].post.requestBody.content['application/json'].example;
    expect(created).toMatchObject({ task_type: 'email', payload: { to: 'user@example.com' } });
    // Named shared schemas, so that generated clients get named types.
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['ErrorEnvelope', 'TaskSummary', 'TaskDetail', 'TaskStatsView', 'ScheduleView', 'UserProfile']));
    expect(doc.paths['/auth/login'].post.responses['200'].content['application/json'].schema.properties.data.properties.user).toEqual({ $ref: '#/components/schemas/UserProfile' });
    expect(doc.paths['/tasks/{id}'].get.responses['200'].content['application/json'].schema.properties.data).toEqual({ $ref: '#/components/schemas/TaskDetail' });
  });
});
