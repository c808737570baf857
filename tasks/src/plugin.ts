// Nx inference plugin: every experiments/<name>.yaml becomes project <name> with the ARR targets.
// It only adapts the engine's plan (src/graph/project-plan.ts) to Nx's shapes; no process is spawned.
import {
  createNodesFromFiles,
  type CreateNodes,
  type CreateNodesContext,
  type CreateNodesResult,
  type TargetConfiguration,
} from '@nx/devkit';
import { basename, join } from 'node:path';
import { workspaceDataDirectoryForWorkspace } from 'nx/src/utils/cache-directory';
import {
  PLAN_CACHE_FILE,
  planMemo,
  planProject,
  type PlannedTarget,
  type ProjectPlan,
  type TargetPlan,
} from '../../src/graph/project-plan';
import { codeHash, PlanCache } from './plan-cache';

function toNxTarget(name: PlannedTarget, plan: TargetPlan, manifest: string, experiment?: string): TargetConfiguration {
  const inputs: TargetConfiguration['inputs'] = [
    ...plan.files.map((f) => `{workspaceRoot}/${f}`),
    'arrEngine',
    ...plan.env.map((env) => ({ env })),
  ];
  if (plan.external.length) {
    // Files outside the workspace: Nx cannot hash them, so the engine does (memoised: a stat per file).
    inputs.push({ runtime: `node bin/arr.mjs hash-files ${plan.external.map((f) => JSON.stringify(f)).join(' ')}` });
  }
  if (plan.upstreamOutputs) inputs.push({ dependentTasksOutputFiles: '**/*', transitive: true });
  return {
    // Targets with engine code run through the one executor; a grouping target (`train`) runs nothing.
    executor: plan.runnable ? '@arr/tasks:target' : 'nx:noop',
    options: plan.runnable ? { target: name, manifest, ...(experiment ? { experiment } : {}) } : {},
    dependsOn: plan.dependsOn,
    cache: plan.cache,
    // Every target declares inputs, cached or not: the project root is virtual, so Nx's default
    // `{projectRoot}/**/*` would not resolve.
    inputs,
    outputs: plan.outputs.map((o) => `{workspaceRoot}/${o}`),
    metadata: { description: plan.description, technologies: ['arr'] },
  };
}

function toProject(plan: ProjectPlan, manifest: string): CreateNodesResult {
  // A matrix manifest is one project per member (`<name>--<slug>`), each told which member it is.
  if (plan.members)
    return {
      projects: Object.assign(
        {},
        ...plan.members.map((m) => toProject({ ...m, members: undefined }, manifest).projects),
      ),
    };
  const experiment = plan.name === basename(manifest).replace(/\.ya?ml$/i, '') ? undefined : plan.name;
  const targets = Object.fromEntries(
    Object.entries(plan.targets).map(([name, t]) => [
      name,
      toNxTarget(name as PlannedTarget, t!, manifest, experiment),
    ]),
  );
  const root = `experiments/${plan.name}`;
  return {
    projects: {
      [root]: {
        name: plan.name,
        root,
        projectType: 'application',
        // Any problem found while planning (a file that does not parse, a missing base) tags it invalid.
        tags: [
          'arr',
          ...(plan.task ? [`task:${plan.task}`] : []),
          ...(plan.task && plan.problems.length === 0 ? [] : ['invalid']),
        ],
        metadata: {
          description: plan.problems.length
            ? `invalid manifest: ${plan.problems[0]}`
            : `ARR experiment (${plan.task})${experiment ? `, a member of the matrix in ${manifest}` : ''}`,
        },
        targets,
      },
    },
  };
}

export const createNodes: CreateNodes = [
  'experiments/*.{yaml,yml}',
  async (files, options, context: CreateNodesContext) => {
    const root = context.workspaceRoot;
    // In Nx's workspace data folder, so `nx reset` clears it with Nx's own graph cache.
    const cache = new PlanCache(
      join(workspaceDataDirectoryForWorkspace(root), PLAN_CACHE_FILE),
      codeHash(root, ['src', 'schemas', 'tasks/src']),
    );
    const memo = planMemo();
    try {
      return await createNodesFromFiles(
        (file) => {
          const abs = join(context.workspaceRoot, file);
          const plan = cache.get(abs, () => planProject(abs, root, process.env, memo));
          return toProject(plan, file);
        },
        files,
        options ?? {},
        context,
      );
    } finally {
      cache.save();
    }
  },
];

/** Deprecated alias kept for Nx versions that still look for it. */
export const createNodesV2 = createNodes;
