// The local judge backend: the same requests as the HTTP judge, answered by llama.cpp in this process.
// Images arrive already resized by our encoder and go in as files; the answer schema constrains
// decoding; concurrent requests share the runtime's parallel slots.
import { answerSchema } from '../answers.js';
import type { AskRequest, CompletionBackend, Turn } from '../client.js';
import { judgeFiles, judgeIdentity, type JudgeFiles, type LocalModelSettings } from './gguf-files.js';
import type { DownloadProgress } from './hub.js';
import { ImageFiles } from './image-files.js';
import { loadJudge, type LoadedJudge, type RuntimeOptions } from './runtime.js';

export interface LocalJudgeSettings extends LocalModelSettings, RuntimeOptions {}

export interface LocalBackendOptions {
  /** Where relative model paths are resolved from (the workspace root). */
  base?: string;
  env?: NodeJS.ProcessEnv;
  onProgress?: (p: DownloadProgress) => void;
  images?: ImageFiles;
}

interface ParallelResult {
  text?: string;
  content?: string;
  tokens_evaluated?: number;
  tokens_predicted?: number;
  context_full?: boolean;
  timings?: { cache_n?: number; prompt_n?: number };
}

type ContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

const sharedImages = new ImageFiles();

export class LocalBackend implements CompletionBackend {
  readonly kind = 'local' as const;
  private judge?: Promise<LoadedJudge>;
  private readonly images: ImageFiles;

  constructor(
    readonly settings: LocalJudgeSettings,
    private readonly options: LocalBackendOptions = {},
  ) {
    this.images = options.images ?? sharedImages;
  }

  /** The GGUF files, resolved (and downloaded when missing) once per process. */
  files(): Promise<JudgeFiles> {
    const { model, mmproj, quant } = this.settings;
    return judgeFiles(
      { model, mmproj, quant },
      { base: this.options.base, env: this.options.env, onProgress: this.options.onProgress },
    );
  }

  /** What stands for judge.model in keys: the files' content hashes. */
  async identity(): Promise<string> {
    return judgeIdentity(await this.files());
  }

  /** The loaded runtime (loaded on first use, shared by the process). */
  loaded(): Promise<LoadedJudge> {
    this.judge ??= this.files().then((files) => {
      const { gpuLayers, threads, parallel, context } = this.settings;
      return loadJudge(files, { gpuLayers, threads, parallel, context });
    });
    return this.judge;
  }

  async complete(
    turns: Turn[],
    request: AskRequest,
    call: { maxTokens: number; temperature: number; timeoutMs: number },
  ) {
    const judge = await this.loaded();
    const messages = await Promise.all(
      turns.map(async (t) => ({
        role: t.role,
        content: typeof t.content === 'string' ? t.content : await this.parts(t.content),
      })),
    );
    const { kind, n, min, max } = request.answer;
    const job = await judge.ctx.parallel.completion({
      messages,
      // Plain chat templating: the Jinja path adds the generation prompt to the JSON grammar for some templates.
      jinja: false,
      response_format: {
        type: 'json_schema',
        json_schema: { name: `${kind}_answer`, schema: answerSchema(kind, n, min, max) },
      },
      n_predict: call.maxTokens,
      temperature: call.temperature,
    } as Parameters<LoadedJudge['ctx']['parallel']['completion']>[0]);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        job.stop();
        reject(new Error(`no answer within ${call.timeoutMs / 1000} s`));
      }, call.timeoutMs);
    });
    try {
      const result = (await Promise.race([job.promise, timeout])) as ParallelResult;
      // The prompt's tokens: those reused from a slot's cache plus those evaluated now.
      const prompt = (result.timings?.cache_n ?? 0) + (result.timings?.prompt_n ?? result.tokens_evaluated ?? 0);
      if (result.context_full)
        throw new Error(
          `the request (${prompt} prompt tokens) and its answer do not fit judge.local.context (${this.settings.context} tokens per sequence)`,
        );
      return {
        content: result.content ?? result.text ?? '',
        usage: { prompt_tokens: prompt, completion_tokens: result.tokens_predicted ?? 0 },
      };
    } finally {
      clearTimeout(timer);
    }
  }

  private parts(blocks: Exclude<Turn['content'], string>): Promise<ContentPart[]> {
    return Promise.all(
      blocks.map(
        async (b): Promise<ContentPart> =>
          b.type === 'text'
            ? { type: 'text', text: b.text }
            : { type: 'image_url', image_url: { url: await this.images.path(b.image) } },
      ),
    );
  }
}
