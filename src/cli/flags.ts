/** Parsers for CLI flag values: each rejects bad input with CLI_BAD_FLAG. */
import { InvalidArgumentError } from 'commander';

export function parsePositiveInt(name: string, max = 1 << 20) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a positive integer, got "${value}"`);
    const n = Number(value);
    if (n < 1 || n > max) throw new InvalidArgumentError(`${name} must be between 1 and ${max}, got ${n}`);
    return n;
  };
}

export function parseIntList(name: string, max = 1 << 20) {
  const one = parsePositiveInt(name, max);
  return (value: string): number[] => value.split(',').map((v) => one(v.trim()));
}

export function parsePositiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got "${value}"`);
    return n;
  };
}

export function parseNumberList(name: string) {
  const one = parsePositiveNumber(name);
  return (value: string): number[] => value.split(',').map((v) => one(v.trim()));
}

export function parseChoiceList<T extends string>(name: string, choices: readonly T[]) {
  return (value: string): T[] =>
    value.split(',').map((v) => {
      const c = v.trim() as T;
      if (!choices.includes(c)) throw new InvalidArgumentError(`${name}: "${v}" is not one of ${choices.join(', ')}`);
      return c;
    });
}

export function parseChoice<T extends string>(name: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!choices.includes(value as T)) throw new InvalidArgumentError(`${name}: "${value}" is not one of ${choices.join(', ')}`);
    return value as T;
  };
}

/** A TCP port, 0 (any free port) to 65535. */
export function parsePort(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError(`--port must be an integer from 0 to 65535, got "${value}"`);
  return Number(value);
}
