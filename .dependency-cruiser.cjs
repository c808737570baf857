// Import boundaries for `npm run lint`. The layers are read from the table in docs/architecture.md, so
// the page and the check cannot drift apart: a module may import from its own layer or a lower one.
// Also: no import cycles, src/ never imports tasks/ or Nx, and every module under src/ is in some layer
// (a new folder needs a row in the table first).
const { join } = require('node:path');
const { layerRules, readLayers } = require('./scripts/layer-rules.cjs');

// Upward imports that docs/architecture.md lists as still to be removed. Each is allowed only from the
// module (or folder) named to the one named; delete an entry when its import goes.
const KNOWN_UPWARD = [];

// Cycles that exist today, each among the modules of one group only. A cycle through any other module is
// still an error. Delete a group when its cycle is broken.
const KNOWN_CYCLES = [];

module.exports = {
  forbidden: layerRules(readLayers(join(__dirname, 'docs', 'architecture.md')), {
    upward: KNOWN_UPWARD,
    cycles: KNOWN_CYCLES,
  }),
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
