// Shared by the test files of VGG_CIFAR_CUDA_NHWC=auto (nhwc-auto*.test.ts): the tuner's report
// (status details.nhwcTuned). The steps it tunes are nhwc-batchnorm.ts's.
import { backends } from '../../lib/backend.js';

export const POOL_2X2 = { kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, padH: 0, padW: 0 };

/** Each tuned shape's report, by key (e.g. "bfloat16[6,64,8,8]nhwc bn+relu"). */
export function tunedReports(): Map<string, string> {
  const d = backends().find((b) => b.device === 'cuda')!.details as Record<string, string>;
  const m = new Map<string, string>();
  if (d.nhwcTuned === undefined || d.nhwcTuned === 'none yet') return m;
  for (const entry of d.nhwcTuned.split('; ')) {
    const at = entry.indexOf(': ');
    m.set(entry.slice(0, at), entry.slice(at + 2));
  }
  return m;
}

/** The candidate a report picked ("... -> cudnn"). */
export const pickOf = (report: string) => /-> ([\w-]+)/.exec(report)![1];
