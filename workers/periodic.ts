/**
 * Runs `task` every `intervalMs`, never two at once (a slow run makes the next tick skip), without
 * keeping the process alive. `stop()` cancels the timer and waits for a run in progress.
 */
export function everyInterval(intervalMs: number, task: () => Promise<unknown>) {
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    running ??= task().finally(() => (running = null));
  }, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
