// llama.cpp in this process (@fugood/llama.node): one loaded model per set of files and options,
// shared by every judge session in the process.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { ArrError } from '../../util/errors.js';
import type { JudgeFiles } from './gguf-files.js';

type LlamaModule = typeof import('@fugood/llama.node');
export type LlamaContext = Awaited<ReturnType<LlamaModule['loadModel']>>;

export interface RuntimeOptions {
  /** Layers on the GPU; null: all of them when a CUDA or Vulkan device loads, else 0. */
  gpuLayers: number | null;
  /** CPU threads; null: the physical cores. */
  threads: number | null;
  parallel: number;
  context: number;
}

export interface LoadedJudge {
  ctx: LlamaContext;
  files: JudgeFiles;
  /** Which build runs it: `default` (CPU), `cuda` or `vulkan`. */
  variant: 'default' | 'cuda' | 'vulkan';
  gpuLayers: number;
  threads: number;
  parallel: number;
  devices: string[];
  loadMs: number;
}

export class LocalRuntimeError extends ArrError {
  override name = 'LocalRuntimeError';
}

const loaded = new Map<string, Promise<LoadedJudge>>();

/** Loads the model and its projector once per process; later calls with the same files and options share it. */
export function loadJudge(files: JudgeFiles, options: RuntimeOptions): Promise<LoadedJudge> {
  const key = JSON.stringify([files.model.path, files.mmproj.path, options]);
  let judge = loaded.get(key);
  if (!judge) {
    judge = load(files, options);
    judge.catch(() => loaded.delete(key)); // a failed load is retried by the next caller
    loaded.set(key, judge);
  }
  return judge;
}

/** Releases every model this process loaded (tests and short-lived commands call it before exiting). */
export async function releaseJudges(): Promise<void> {
  const all = [...loaded.values()];
  loaded.clear();
  await Promise.all(
    all.map((p) =>
      p.then(
        (j) => j.ctx.release(),
        () => undefined,
      ),
    ),
  );
}

async function load(files: JudgeFiles, options: RuntimeOptions): Promise<LoadedJudge> {
  const llama = await import('@fugood/llama.node');
  const started = Date.now();
  const variant = options.gpuLayers === 0 ? 'default' : await gpuVariant(llama);
  const gpuLayers = options.gpuLayers ?? (variant === 'default' ? 0 : 999);
  const threads = options.threads ?? physicalCores();
  let ctx: LlamaContext;
  try {
    ctx = await llama.loadModel({
      model: files.model.path,
      lib_variant: variant,
      // llama.cpp splits n_ctx between the parallel sequences: each gets judge.local.context.
      n_ctx: options.context * options.parallel,
      n_parallel: options.parallel,
      n_threads: threads,
      n_gpu_layers: gpuLayers,
      kv_unified: true,
      ctx_shift: false,
    });
  } catch (error) {
    throw new LocalRuntimeError(`llama.cpp could not load ${files.model.path}: ${(error as Error).message}`, {
      cause: error,
      hint: 'check that the file is a complete GGUF model (its sha256 is checked on download)',
    });
  }
  try {
    const ok = await ctx.initMultimodal({ path: files.mmproj.path, use_gpu: gpuLayers > 0 });
    if (!ok) throw new Error('initMultimodal returned false');
    if (!(await ctx.parallel.enable({ n_parallel: options.parallel })))
      throw new Error('parallel decoding could not be enabled');
  } catch (error) {
    await ctx.release().catch(() => undefined);
    throw new LocalRuntimeError(
      `llama.cpp could not use the projector ${files.mmproj.path} with ${files.model.name}: ${(error as Error).message}`,
      {
        cause: error,
        hint: 'judge.local.mmproj must be the mmproj*.gguf made for this model',
      },
    );
  }
  return {
    ctx,
    files,
    variant,
    gpuLayers,
    threads,
    parallel: options.parallel,
    devices: ctx.getUsedDevices(),
    loadMs: Date.now() - started,
  };
}

/** The first GPU build whose runtime finds a GPU device, else the CPU build. */
async function gpuVariant(llama: LlamaModule): Promise<'default' | 'cuda' | 'vulkan'> {
  for (const variant of ['cuda', 'vulkan'] as const) {
    try {
      const devices = await llama.getBackendDevicesInfo(variant);
      if (devices.some((d) => d.type === 'gpu')) return variant;
    } catch {
      /* this build does not load here */
    }
  }
  return 'default';
}

/** Physical cores (hyper-threads share a core's arithmetic units, so more threads only contend). */
export function physicalCores(): number {
  try {
    const cores = new Set<string>();
    let physical = '';
    for (const line of readFileSync('/proc/cpuinfo', 'utf8').split('\n')) {
      const [k, v] = line.split(':').map((s) => s?.trim());
      if (k === 'physical id') physical = v;
      if (k === 'core id') cores.add(`${physical}:${v}`);
    }
    if (cores.size > 0) return cores.size;
  } catch {
    /* not Linux */
  }
  return Math.max(1, Math.floor(cpus().length / 2));
}
