/** Parses a numeric CLI option, naming the option and what is allowed when it is not a number. */
export function parseNumberOption(name: string, raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) {
    throw new Error(`${name} must be a number, got '${raw}'`);
  }
  return value;
}
