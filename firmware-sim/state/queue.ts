// The order of one process's mutating calls: each waits for the one before, whatever became of it.

/** Serializes the mutating calls of one process before they compete for the file lock. */
export class Queue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `task` after every task queued before it has settled. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => {});
    return result;
  }
}
