// The wait before retrying after `failures` failures in a row, for the console and the
// public pages alike.

/**
 * Doubles from `start` up to `max` with each failure, then takes a random point in the upper
 * half, so that many pages cut off together (a server restart) do not all come back at once.
 */
export function backoff(failures, start = 1000, max = 30000) {
  const base = Math.min(max, start * 2 ** Math.max(0, failures - 1));
  return base / 2 + Math.random() * (base / 2);
}
