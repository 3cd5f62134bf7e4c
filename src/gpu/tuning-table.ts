import type { TensorGeometry } from '../core/tensor-geometry.js';
import { ELEMENT_KINDS, elementKind, STRATEGIES, type Strategy } from './planner.js';

/**
 * Strategies measured fastest by tune(), per adapter and shape class, shared by every
 * instance in the page; kept in localStorage when tune() was asked to persist them.
 * Key format: `<adapter name>|<shape class>`, see shapeClass().
 */
const winners = new Map<string, Strategy>();
let loadedFromStorage = false;

const STORAGE_KEY = 'webgpu-instancenorm:tuning:v1';

/**
 * Shapes that share a plan's behaviour: layout, element kind, and the powers of two that bound
 * the instance size and the count of kernel instances. E.g. 'nchw/vec4-position/s12/i7'.
 */
export function shapeClass(g: TensorGeometry): string {
  const elements = elementKind(g);
  const instances = g.batch * Math.ceil(g.channels / ELEMENT_KINDS[elements].lanes);
  return `${g.layout}/${elements}/s${Math.ceil(Math.log2(g.spatialSize))}/i${Math.ceil(Math.log2(instances))}`;
}

export function tunedStrategy(adapterName: string, g: TensorGeometry): Strategy | undefined {
  loadFromStorage();
  return winners.get(`${adapterName}|${shapeClass(g)}`);
}

export function recordWinner(adapterName: string, g: TensorGeometry, strategy: Strategy, persist: boolean): void {
  loadFromStorage();
  winners.set(`${adapterName}|${shapeClass(g)}`, strategy);
  if (persist) storage()?.setItem(STORAGE_KEY, JSON.stringify(Object.fromEntries(winners)));
}

/** Forgets every tuned strategy, in memory and in localStorage (read again when next needed). */
export function clearTuning(): void {
  winners.clear();
  storage()?.removeItem(STORAGE_KEY);
  loadedFromStorage = false;
}

function loadFromStorage(): void {
  if (loadedFromStorage) return;
  loadedFromStorage = true;
  const saved = storage()?.getItem(STORAGE_KEY);
  if (!saved) return;
  try {
    for (const [key, strategy] of Object.entries(JSON.parse(saved) as Record<string, unknown>)) {
      if (STRATEGIES.includes(strategy as Strategy)) winners.set(key, strategy as Strategy);
    }
  } catch {
    // A corrupt entry is ignored: tuning only ever chooses among correct strategies.
  }
}

function storage(): Storage | undefined {
  try {
    return globalThis.localStorage ?? undefined;
  } catch {
    return undefined; // access denied, e.g. sandboxed frames
  }
}
