import { describe, expect, it } from 'vitest';
import { native } from '../../lib/backend.js';
import { rand, testDevices } from '../helpers/check.js';

describe.each(testDevices())('tensors on %s', (device) => {
  it('round-trips float32, uint8 and int32 data', () => {
    const f = Float32Array.from(rand(24, 1));
    const t = native.fromArray(device, [2, 3, 4], f);
    expect(t.shape).toEqual([2, 3, 4]);
    expect(t.dtype).toBe('float32');
    expect(t.size).toBe(24);
    expect(Array.from(native.toArray(t) as Float32Array)).toEqual(Array.from(f));
    const u = native.fromArray(device, [5], Uint8Array.of(0, 1, 127, 200, 255));
    expect(Array.from(native.toArray(u))).toEqual([0, 1, 127, 200, 255]);
    const i = native.fromArray(device, [3], Int32Array.of(-5, 0, 2 ** 30));
    expect(Array.from(native.toArray(i))).toEqual([-5, 0, 2 ** 30]);
    for (const x of [t, u, i]) x.dispose();
  });

  it('reshape is a view over the same storage', () => {
    const t = native.fromArray(device, [2, 6], Float32Array.from(rand(12, 2)));
    const v = t.reshape([3, -1]);
    expect(v.shape).toEqual([3, 4]);
    native.fill(v, 7);
    expect(Array.from(native.toArray(t) as Float32Array)).toEqual(new Array(12).fill(7));
    t.dispose();
    expect(t.disposed).toBe(true);
    expect(v.disposed).toBe(false);
    expect((native.toArray(v) as Float32Array)[0]).toBe(7);
    v.dispose();
    expect(() => t.reshape([12])).toThrow(/disposed/);
  });

  it('copies between layouts and back without changing values', () => {
    const shape = [2, 32, 3, 5];
    const data = Float32Array.from(rand(2 * 32 * 15, 3));
    const plain = native.fromArray(device, shape, data);
    const layout = native.preferredLayout(device, shape);
    const blocked = native.empty(device, shape, 'float32', layout);
    native.copy(plain, blocked);
    expect(blocked.layout).toBe(layout);
    expect(Array.from(native.toArray(blocked) as Float32Array)).toEqual(Array.from(data));
    const back = native.empty(device, shape, 'float32');
    native.copy(blocked, back);
    expect(Array.from(native.toArray(back) as Float32Array)).toEqual(Array.from(data));
    for (const x of [plain, blocked, back]) x.dispose();
  });

  it('frees storage: 10,000 create/dispose cycles of a 1 MB tensor leave memory flat', () => {
    const before = native.liveBytes(device);
    const data = new Float32Array(262144).fill(1.5);
    // 2,000 cycles to reach the steady state (allocator and V8 heap sizes), then 8,000 measured
    for (let k = 0; k < 2_000; k++) native.fromArray(device, [262144], data).dispose();
    const rss0 = process.memoryUsage().rss;
    for (let k = 0; k < 8_000; k++) native.fromArray(device, [262144], data).dispose();
    const rss1 = process.memoryUsage().rss;
    expect(native.liveBytes(device)).toBe(before);
    expect(rss1).toBeLessThan(rss0 * 1.05);
  });
});
