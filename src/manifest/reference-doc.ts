// Renders docs/manifest.md from the experiment schema, so the reference can never drift from it.
type Schema = Record<string, any>;

function typeOf(s: Schema): string {
  if (s.enum) return s.enum.map((v: unknown) => `\`${JSON.stringify(v)}\``).join(' | ');
  if (s.oneOf) return s.oneOf.map(typeOf).join(' or ');
  const types: string[] = Array.isArray(s.type) ? s.type : s.type ? [s.type] : ['any'];
  return types
    .map((t) =>
      t === 'array' && s.items
        ? `list of ${typeOf(s.items)}`
        : t === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object'
          ? `map of ${typeOf(s.additionalProperties)}`
          : t,
    )
    .join(' | ');
}

function constraints(s: Schema): string {
  const parts: string[] = [];
  if (s.minimum !== undefined) parts.push(`≥ ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) parts.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined) parts.push(`≤ ${s.maximum}`);
  if (s.pattern) parts.push(`matches \`${s.pattern}\``);
  return parts.join(', ');
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function rows(props: Schema, prefix: string, out: string[]): void {
  for (const [name, s] of Object.entries<Schema>(props)) {
    const path = prefix ? `${prefix}.${name}` : name;
    const isSection = s.type === 'object' && s.properties;
    const dflt = 'default' in s && !isSection ? `\`${JSON.stringify(s.default)}\`` : isSection ? '' : '(required)';
    out.push(
      `| \`${path}\` | ${cell(typeOf(s))} | ${dflt} | ${cell(s.description ?? '')}${constraints(s) ? ` (${constraints(s)})` : ''} |`,
    );
    if (isSection) rows(s.properties, path, out);
  }
}

export function renderManifestReference(schema: Schema): string {
  const out = [
    '<!-- Generated from schemas/experiment.schema.json by `npm run gen`; CI checks it is current. Do not edit. -->',
    '# Experiment manifest reference',
    '',
    schema.description,
    '',
    'Start a file with `# yaml-language-server: $schema=../schemas/experiment.schema.json` for completion and hover help in editors.',
    'Any value may be an environment reference, `${VAR}` or `${VAR:-default}`, resolved when a task runs;',
    'a whole-value reference is read as a YAML scalar, so `${ARR_CONCURRENCY:-8}` is the number 8.',
    '`npx arr show <experiment>` prints every value after `extends`, env references and defaults, with where it came from.',
    '',
    '| key | type | default | meaning |',
    '|---|---|---|---|',
  ];
  rows(schema.properties, '', out);
  out.push('');
  return out.join('\n');
}
