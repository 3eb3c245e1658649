// The few flags the GPU benchmarks take (`--name value`), read without a parser: they are scripts run by
// hand or by native/cuda/check/gpu-check.sh, never by users through the CLI.

/** The value after `--name`, or `dflt`. */
export function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

/** A comma-separated `--name a,b` as a list ('none' and empty items dropped). */
export function argList(name: string, dflt: string): string[] {
  return arg(name, dflt).split(',').map((s) => s.trim()).filter((s) => s && s !== 'none');
}
