/**
 * A task the page already holds (the answer to POST /tasks), handed to the task page so it shows the
 * task at once, as created, before its own read and the live updates take over.
 */
const primed = new Map();

export function primeTask(task) {
  primed.set(task.id, task);
}

export function takePrimedTask(id) {
  const task = primed.get(id) ?? null;
  primed.delete(id);
  return task;
}
