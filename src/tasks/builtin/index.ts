import type { TaskDefinition } from '../define-task.ts';
import { delayTask } from './delay-task.ts';

/** Every task type Conveyor ships; `conveyor work` registers all of them. */
export const builtinTasks: readonly TaskDefinition<any>[] = [delayTask];
