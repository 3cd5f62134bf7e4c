import { describe, expect, it } from 'vitest';
import { InstanceNormError, instanceNormCpu } from '../src';

const x12 = new Float32Array(12);

// Each bad call, and the words its message must contain.
const badCalls: [string, () => unknown, RegExp][] = [
  ['a shape of rank 2', () => instanceNormCpu(new Float32Array(6), [2, 3]), /shape must have rank 3, 4 or 5.*got rank 2/],
  ['a shape of rank 6', () => instanceNormCpu(new Float32Array(1), [1, 1, 1, 1, 1, 1]), /got rank 6/],
  ['a zero dimension', () => instanceNormCpu(new Float32Array(0), [1, 0, 4]), /shape\[1\] must be a positive integer, got 0/],
  ['a fractional dimension', () => instanceNormCpu(x12, [1, 3, 4.5]), /shape\[2\] must be a positive integer, got 4\.5/],
  ['a negative dimension', () => instanceNormCpu(x12, [-1, 3, 4]), /shape\[0\] must be a positive integer, got -1/],
  ['a string dimension', () => instanceNormCpu(x12, [1, '3', 4] as never), /shape\[1\] must be a positive integer, got '3'/],
  ['a shape that is not an array', () => instanceNormCpu(x12, 12 as never), /shape must be an array/],
  [
    'input too short',
    () => instanceNormCpu(new Float32Array(10), [1, 3, 4]),
    /input has length 10, expected 12 for shape \[1, 3, 4\]/,
  ],
  [
    'input not a Float32Array',
    () => instanceNormCpu([1, 2, 3] as never, [1, 1, 3]),
    /input must be a Float32Array, got Array\(3\)/,
  ],
  [
    'scale of length C + 1',
    () => instanceNormCpu(x12, [1, 3, 4], { scale: new Float32Array(4) }),
    /scale has length 4, expected C = 3/,
  ],
  [
    'bias of length C - 1',
    () => instanceNormCpu(x12, [1, 3, 4], { bias: new Float32Array(2) }),
    /bias has length 2, expected C = 3/,
  ],
  [
    'nhwc scale sized for the wrong axis',
    () => instanceNormCpu(x12, [1, 4, 3], { layout: 'nhwc', scale: new Float32Array(4) }),
    /scale has length 4, expected C = 3/,
  ],
  [
    'scale as a plain array',
    () => instanceNormCpu(x12, [1, 3, 4], { scale: [1, 1, 1] as never }),
    /scale must be a Float32Array of length C = 3 on the CPU backend, got Array\(3\)/,
  ],
  ['epsilon NaN', () => instanceNormCpu(x12, [1, 3, 4], { epsilon: Number.NaN }), /epsilon must be a finite number ≥ 0, got NaN/],
  ['epsilon -1', () => instanceNormCpu(x12, [1, 3, 4], { epsilon: -1 }), /epsilon must be a finite number ≥ 0, got -1/],
  ['epsilon Infinity', () => instanceNormCpu(x12, [1, 3, 4], { epsilon: Number.POSITIVE_INFINITY }), /got Infinity/],
  [
    'epsilon as a string',
    () => instanceNormCpu(x12, [1, 3, 4], { epsilon: '1e-5' as never }),
    /epsilon must be a finite number ≥ 0, got '1e-5'/,
  ],
  [
    'layout NCHW in capitals',
    () => instanceNormCpu(x12, [1, 3, 4], { layout: 'NCHW' as never }),
    /layout must be 'nchw' or 'nhwc', got 'NCHW'/,
  ],
  ['layout nchwx', () => instanceNormCpu(x12, [1, 3, 4], { layout: 'nchwx' as never }), /got 'nchwx'/],
  [
    'options that are not an object',
    () => instanceNormCpu(x12, [1, 3, 4], 5 as never),
    /options must be an object or undefined, got 5/,
  ],
  [
    'more than 2^32 bytes of elements',
    () => instanceNormCpu(x12, [1024, 1024, 1025]),
    /has 1074790400 elements, 4299161600 bytes as float32: more than the 2\^32 bytes/,
  ],
];

describe('bad arguments throw InstanceNormError naming the argument', () => {
  it.each(badCalls)('%s', (_name, call, message) => {
    expect(call).toThrow(InstanceNormError);
    expect(call).toThrow(message);
    const error = thrownBy(call);
    expect(error.code).toBe('invalid-argument');
    // The argument at fault is named, in the message and in the error.
    expect(error.argument).toBeTruthy();
    expect(error.message).toContain(error.argument);
  });
});

function thrownBy(call: () => unknown): InstanceNormError {
  try {
    call();
  } catch (error) {
    return error as InstanceNormError;
  }
  throw new Error('the call did not throw');
}
