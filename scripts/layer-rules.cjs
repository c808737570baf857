// Builds dependency-cruiser rules from the layer table in docs/architecture.md (used by
// .dependency-cruiser.cjs and test/layers/boundaries.test.ts).
const { readFileSync } = require('node:fs');

/** Rows of the layer table: `| 3 | \`src/store/\` | ... |` gives [['src/store/'], ...] by layer number. */
function readLayers(file) {
  const layers = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const row = /^\|\s*(\d+)\s*\|([^|]*)\|/.exec(line);
    if (!row) continue;
    const paths = [...row[2].matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    if (paths.length > 0) layers[Number(row[1])] = paths;
  }
  if (layers.length === 0) throw new Error(`${file}: no layer table (| N | \`path\` | ... |) found`);
  return layers;
}

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** `src/store/` matches the folder, `src/cli.ts` the one file. */
const pattern = (paths) =>
  `^(${paths.map((p) => (p.endsWith('/') ? escapeRegExp(p) : `${escapeRegExp(p)}$`)).join('|')})`;

/**
 * The forbidden rules for a layer table. `allowed.upward` lists `{from, to}` imports that may point up
 * for now; `allowed.cycles` lists groups of modules whose cycle among themselves is tolerated for now.
 */
function layerRules(layers, allowed = {}) {
  const upward = allowed.upward ?? [];
  const cycles = allowed.cycles ?? [];
  const rules = [];
  layers.forEach((paths, level) => {
    if (!paths) return;
    const above = layers
      .slice(level + 1)
      .flat()
      .filter(Boolean);
    if (above.length === 0) return;
    // A file listed in a lower layer (src/targets/registry.ts) stays there even inside a higher folder.
    const sameOrBelow = layers
      .slice(0, level + 1)
      .flat()
      .filter(Boolean);
    const sources = [...new Set(upward.filter((e) => paths.some((p) => e.from.startsWith(p))).map((e) => e.from))];
    rules.push({
      name: `layer-${level}-imports-upward`,
      comment: `layer ${level} (${paths.join(', ')}) may import only from layers 0-${level} (docs/architecture.md)`,
      severity: 'error',
      from: { path: pattern(paths), ...(sources.length > 0 ? { pathNot: pattern(sources) } : {}) },
      to: { path: pattern(above), pathNot: pattern(sameOrBelow) },
    });
    for (const source of sources) {
      // Everything a more general entry allows (src/preprocess/) also holds for a narrower one inside it.
      const targets = upward.filter((e) => source.startsWith(e.from)).map((e) => e.to);
      rules.push({
        name: `layer-${level}-imports-upward`,
        comment: `${source} may still import ${targets.join(', ')} (to be removed, docs/architecture.md)`,
        severity: 'error',
        from: { path: pattern([source]) },
        to: { path: pattern(above), pathNot: pattern(targets) },
      });
    }
  });
  const all = layers.flat().filter(Boolean);
  rules.push(
    {
      name: 'no-cycles',
      comment: 'modules must not import each other in a cycle',
      severity: 'error',
      from: cycles.length > 0 ? { pathNot: pattern(cycles.flat()) } : {},
      to: { circular: true },
    },
    {
      name: 'src-imports-no-nx',
      comment: 'the engine never imports the Nx adapter or Nx itself',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^tasks/|node_modules/(nx|@nx/[^/]+)/' },
    },
    {
      name: 'module-outside-layers',
      comment: 'every module under src/ belongs to a layer: add its folder to the table in docs/architecture.md',
      severity: 'error',
      from: { path: '^src/', pathNot: pattern(all) },
      to: {},
    },
  );
  return rules;
}

module.exports = { readLayers, layerRules };
