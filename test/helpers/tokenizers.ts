// Pieces of Hugging Face tokenizer.json files that tests and benches write by hand.

/** An `added_tokens` entry for a special token. */
export const makeSpecialToken = (id: number, content: string) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: false,
  special: true,
});

/** A TemplateProcessing post-processor: `single` is a list of special tokens and `$A`; pairs append `$B`. */
export function makeTemplateProcessing(single: string[], ids: Record<string, number>) {
  const piece = (s: string) =>
    s === '$A' ? { Sequence: { id: 'A', type_id: 0 } } : { SpecialToken: { id: s, type_id: 0 } };
  return {
    type: 'TemplateProcessing',
    single: single.map(piece),
    pair: [...single.map(piece), { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: Object.fromEntries(Object.entries(ids).map(([t, id]) => [t, { id: t, ids: [id], tokens: [t] }])),
  };
}
