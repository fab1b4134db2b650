// Sizes for people: the one way a byte count is written in messages, tables and progress bars.

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'] as const;

/** `512 bytes`, `1.5 KiB`, `12.0 MiB`, `2.0 GiB`: below 1 KiB exact, above in binary units with one decimal. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}
