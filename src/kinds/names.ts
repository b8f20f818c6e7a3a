/**
 * The names of the kinds of leftover, and of their lists in the report: the leaf of the tree that
 * every layer may read. Each kind's module in this folder declares itself under its name here,
 * and registry.ts (the composition root, read only by main.ts) puts the modules together.
 */

/** Every kind, in the order a sweep handles and reports them: the builders first, then what they leave. */
export const KIND_NAMES = [
  'instances',
  'key-pairs',
  'security-groups',
  'launch-templates',
  'instance-profiles',
  'images',
  'volumes'
] as const
export type Kind = (typeof KIND_NAMES)[number]

/** Each kind's list in the report (the `report` output, the report file, the notification's JSON). */
export const REPORT_LISTS = {
  instances: 'instances',
  'key-pairs': 'keyPairs',
  'security-groups': 'securityGroups',
  'launch-templates': 'launchTemplates',
  'instance-profiles': 'instanceProfiles',
  images: 'images',
  volumes: 'volumes'
} as const satisfies Record<Kind, string>

export type ListName = (typeof REPORT_LISTS)[Kind]

/**
 * Inputs that act on one kind alone: set while `resources` does not select that kind, they would
 * silently do nothing, so inputs.ts refuses them.
 */
export const KIND_ONLY_INPUTS = [
  { input: 'image-incomplete-tag', kind: 'images' },
  { input: 'delete-inherited-volumes', kind: 'volumes' }
] as const satisfies readonly { input: string; kind: Kind }[]

/**
 * Kinds found through another kind's survey: selected alone, they would silently find nothing, so
 * inputs.ts refuses them. A builder's kept volumes are found from the builders this run surveys.
 */
export const KIND_NEEDS = [
  {
    kind: 'volumes',
    needs: 'instances',
    why: 'a builder’s kept volumes are found through the builders the sweep surveys'
  }
] as const satisfies readonly { kind: Kind; needs: Kind; why: string }[]
