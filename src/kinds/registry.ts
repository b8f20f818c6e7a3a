/**
 * The registry of leftover kinds: the composition root, and the only file that imports the kind
 * modules. main.ts alone imports it and hands the kinds to the engine and the report. A new kind
 * is one module in this folder, its name in names.ts, its finding in findings.ts and one entry
 * here; `satisfies` makes a kind that is named but not declared (or declared under another name)
 * a compile error.
 */
import type { KindModule } from '../engine/kind.js'
import { images } from './images/index.js'
import { instanceProfiles } from './instance-profiles/index.js'
import { instances } from './instances.js'
import { keyPairs } from './key-pairs.js'
import { launchTemplates } from './launch-templates.js'
import { KIND_NAMES, type Kind } from './names.js'
import { securityGroups } from './security-groups.js'
import { volumes } from './volumes/index.js'

const KINDS = {
  instances,
  'key-pairs': keyPairs,
  'security-groups': securityGroups,
  'launch-templates': launchTemplates,
  'instance-profiles': instanceProfiles,
  images,
  volumes
} satisfies { [K in Kind]: KindModule & { name: K } }

/** Every kind's module, in the order of names.ts: the builders first, then what they leave. */
export const KIND_MODULES: readonly KindModule[] = KIND_NAMES.map((name) => KINDS[name])
