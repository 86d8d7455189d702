import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { ApiError } from '../api-error.ts';
import type { ApiContext, App } from '../api-context.ts';
import { principalOf } from '../plugins/authenticate.ts';
import { errors } from '../schemas/common.ts';
import { TaskIdParams } from '../schemas/task-schemas.ts';
import { taskArtifact } from '../task-artifact.ts';
import { visibleTask } from '../task-access.ts';

/** The file itself, by its type (report_generation writes csv, json or html). */
const FileBody = Type.Unsafe<Readable>({ type: 'string', format: 'binary' });
const ArtifactFile = {
  description: 'The file, sent as a download (Content-Disposition: attachment)',
  content: Object.fromEntries(['text/csv', 'application/json', 'text/html', 'text/plain', 'application/octet-stream'].map((type) => [type, { schema: FileBody }])),
};

/** GET /tasks/:id/artifact: the file a report task wrote, for whoever may see the task. */
export function taskArtifactRoutes(app: App, ctx: ApiContext): void {
  app.get('/tasks/:id/artifact', {
    schema: {
      operationId: 'getTaskArtifact',
      tags: ['tasks'],
      summary: 'Download the file a task produced (a report)',
      description:
        'The owner, moderators and admins, as for GET /tasks/:id. 404 when the task has no file: not completed, not a report, or its file is gone. ' +
        'Only files inside the reports folder are ever served.',
      params: TaskIdParams,
      response: { 200: ArtifactFile, ...errors(400, 401, 404) },
    },
  }, async (request, reply) => {
    const task = await visibleTask(ctx, principalOf(request).user, request.params.id);
    const artifact = await taskArtifact(task, ctx.config.reports.artifactsDir);
    if (!artifact) throw new ApiError('NOT_FOUND', 'This task has no file to download');
    const name = artifact.name.replace(/[^\w.-]/g, '_');
    return reply
      .header('content-type', artifact.contentType)
      .header('content-length', artifact.size)
      // A download, never a page rendered on the API's origin (an HTML report holds data from tasks).
      .header('content-disposition', `attachment; filename="${name}"`)
      .header('content-security-policy', "sandbox; default-src 'none'")
      .header('cache-control', 'private, no-store')
      .send(createReadStream(artifact.path));
  });
}
