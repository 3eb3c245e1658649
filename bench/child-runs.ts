// Runs a benchmark script once per value of an environment variable that the native addon reads once per
// process (VGG_CIFAR_CUDA_NHWC, VGG_CIFAR_CUDA_CONV): one child process per value on the same card, each
// child's output printed under a heading, and the measurements each child printed on its JSON_MARK line
// handed back for a side-by-side table.
import { spawnSync } from 'node:child_process';

export const JSON_MARK = 'bench-child-json: ';

/** Prints `data` on the line the parent looks for (call it last in a child). */
export function reportToParent(data: unknown): void {
  console.log(JSON_MARK + JSON.stringify(data));
}

/** Runs `script` with `args` once per value of `envVar`; returns each value with what its child reported
 *  (null when it reported nothing: the child's output, printed above, says why; the process's exit code is
 *  then 1). */
export function runPerValue<T>(script: string, args: string[], envVar: string, values: string[]): Array<{ value: string; data: T | null }> {
  return values.map((value) => {
    const r = spawnSync(process.execPath, [script, ...args], { env: { ...process.env, [envVar]: value }, encoding: 'utf8' });
    const lines = (r.stdout ?? '').split('\n');
    const json = lines.find((l) => l.startsWith(JSON_MARK));
    console.log(`## ${envVar}=${value}\n\n${lines.filter((l) => !l.startsWith(JSON_MARK)).join('\n')}${r.stderr ?? ''}`);
    if (r.status !== 0 || !json) process.exitCode = 1;
    return { value, data: json ? (JSON.parse(json.slice(JSON_MARK.length)) as T) : null };
  });
}
