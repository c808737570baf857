// Provider quirks as data: what each endpoint family accepts, so no call site tests model names.
export type Provider = 'vllm' | 'openai' | 'gemini' | 'dashscope' | 'generic';

export interface Capabilities {
  provider: Provider;
  /** Whether `temperature` may be sent (OpenAI reasoning models reject it). */
  temperature: boolean;
  /** Which `response_format` to ask for; answers are parsed from plain text either way. */
  responseFormat: 'none' | 'json_object' | 'json_schema';
  /** vLLM ≥ 0.12: `extra_body.structured_outputs.json` constrains decoding to the answer schema. */
  structuredOutputs: boolean;
  /** Extra body fields that switch a model's thinking off. */
  thinkingOff: Record<string, unknown> | undefined;
  /** `max_completion_tokens` instead of `max_tokens` (OpenAI's newer models). */
  maxTokensField: 'max_tokens' | 'max_completion_tokens';
}

const FAMILIES: Record<Provider, Omit<Capabilities, 'provider' | 'thinkingOff'>> = {
  vllm: { temperature: true, responseFormat: 'none', structuredOutputs: true, maxTokensField: 'max_tokens' },
  openai: {
    temperature: true,
    responseFormat: 'json_object',
    structuredOutputs: false,
    maxTokensField: 'max_completion_tokens',
  },
  gemini: { temperature: true, responseFormat: 'json_object', structuredOutputs: false, maxTokensField: 'max_tokens' },
  dashscope: {
    temperature: true,
    responseFormat: 'json_object',
    structuredOutputs: false,
    maxTokensField: 'max_tokens',
  },
  generic: { temperature: true, responseFormat: 'none', structuredOutputs: false, maxTokensField: 'max_tokens' },
};

/** Model-specific overrides, applied in order on top of the family. */
const MODEL_QUIRKS: { match: RegExp; families?: Provider[]; apply: Partial<Capabilities>; why: string }[] = [
  { match: /^(o\d|gpt-5)/i, apply: { temperature: false }, why: 'reasoning models reject temperature' },
  {
    match: /qwen3/i,
    families: ['vllm'],
    apply: { thinkingOff: { chat_template_kwargs: { enable_thinking: false } } },
    why: 'Qwen3 thinks by default; thinking slows judging and breaks JSON',
  },
  {
    match: /qwen3/i,
    families: ['dashscope'],
    apply: { thinkingOff: { enable_thinking: false } },
    why: 'DashScope takes the switch at the top level',
  },
];

/** The family of an endpoint, from `judge.provider` or, for `auto`, from its host. */
export function detectProvider(setting: string, baseUrl: string): Provider {
  if (setting !== 'auto') return setting as Provider;
  let host = '';
  try {
    host = new URL(baseUrl).hostname;
  } catch {
    return 'generic';
  }
  if (host.endsWith('openai.com')) return 'openai';
  if (host.includes('generativelanguage.googleapis.com')) return 'gemini';
  if (host.includes('dashscope')) return 'dashscope';
  return 'vllm';
}

export function capabilities(provider: Provider, model: string): Capabilities {
  const caps: Capabilities = { provider, thinkingOff: undefined, ...FAMILIES[provider] };
  for (const quirk of MODEL_QUIRKS) {
    if (quirk.match.test(model) && (!quirk.families || quirk.families.includes(provider)))
      Object.assign(caps, quirk.apply);
  }
  return caps;
}
