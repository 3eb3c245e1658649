// Where the profiler's marks come from: CUDA events on the backend's stream (device time, read after
// one synchronization at the end of the window), or the host clock on the CPU, whose ops are synchronous.
import { native, type Device } from '../backend.js';

export interface Clock {
  /** What the times are, for the table's title. */
  readonly source: string;
  /** Records a mark after the work queued so far; returns its index since the last read(). */
  mark(): number;
  /** Waits for the last mark, returns every mark's time in ms after the first, and forgets them. */
  read(): Float64Array;
}

export class HostClock implements Clock {
  readonly source = 'host wall time';
  private times: number[] = [];

  mark(): number {
    return this.times.push(performance.now()) - 1;
  }

  read(): Float64Array {
    const t = this.times;
    this.times = [];
    return Float64Array.from(t, (v) => v - t[0]);
  }
}

export class CudaClock implements Clock {
  readonly source = 'CUDA events';

  mark(): number {
    return native.timingMark('cuda');
  }

  read(): Float64Array {
    return native.timingRead('cuda');
  }
}

export function clockFor(device: Device): Clock {
  return device === 'cuda' ? new CudaClock() : new HostClock();
}
