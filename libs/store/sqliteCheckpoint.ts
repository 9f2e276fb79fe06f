/**
 * WAL checkpoints off the writer's path. In WAL mode a commit that finds the log over
 * `wal_autocheckpoint` pages (1000) copies the log into the database file and syncs both, inside
 * that commit: on a slow disk tens of milliseconds, during which the writer answers nobody (with
 * the intake writer, every submission in flight). A PASSIVE checkpoint from a connection of its
 * own does that work beside the writers, never blocking them, so the writer's own checkpoint finds
 * little or nothing left to copy or sync. The writer's stays on: under a steady stream of commits a
 * passive checkpoint alone never catches up, and only a writer restarts the log from its start.
 */
import { DatabaseSync } from 'node:sqlite';

/** Milliseconds between two checkpoints. @defaultValue 500 */
export const CHECKPOINT_INTERVAL_MS = 500;

/** Options of startCheckpoints. */
export interface CheckpointOptions {
  /** Milliseconds between checkpoints. @defaultValue CHECKPOINT_INTERVAL_MS (500) */
  intervalMs?: number;
  /** Milliseconds a checkpoint waits for a lock another connection holds. @defaultValue 5000 */
  busyTimeoutMs?: number;
}

/**
 * Runs `PRAGMA wal_checkpoint(PASSIVE)` on the SQLite file `path` every `intervalMs`, on a
 * connection of its own, in the calling thread (each checkpoint blocks it: run it on a thread that
 * does nothing else). A failed checkpoint (busy, I/O) is tried again at the next tick.
 */
export function startCheckpoints(path: string, options: CheckpointOptions = {}): { stop(): void } {
  const db = new DatabaseSync(path, { timeout: options.busyTimeoutMs ?? 5000 });
  const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
  const timer = setInterval(() => {
    try {
      checkpoint.get();
    } catch {
      // Tried again at the next tick; meanwhile the log only grows.
    }
  }, options.intervalMs ?? CHECKPOINT_INTERVAL_MS);
  return {
    stop() {
      clearInterval(timer);
      db.close();
    },
  };
}
