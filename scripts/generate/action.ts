/**
 * action.yml's generated blocks, from the kinds' declarations: the kinds the `resources` input names,
 * and the outputs the kinds declare (each output's name and its `description`, in the registry's
 * order). npm run docs writes them between their markers (scripts/readme-tables.ts); the rest of
 * action.yml is written by hand.
 */
import { parse } from 'yaml'
import { isAccountLeftoverKind, type KindModule } from '../../src/engine/kind.js'

/** The widest line of a folded description, its indentation included. */
export const YAML_WIDTH = 108

/** The widest description kept on one line, like action.yml's hand-written ones. */
export const ONE_LINE_WIDTH = 130

/** Words to lines of at most `width` characters (a longer word gets a line of its own). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  for (const word of text.split(' ')) {
    const last = lines[lines.length - 1]
    if (last !== undefined && last.length + 1 + word.length <= width) lines[lines.length - 1] = `${last} ${word}`
    else lines.push(word)
  }
  return lines
}

/** Whether YAML reads these lines back as a mapping whose description is `text`. */
function readsBack(lines: string[], text: string): boolean {
  try {
    return (parse(lines.join('\n')) as { description?: unknown } | null)?.description === text
  } catch {
    return false
  }
}

/**
 * `description: <text>` for a mapping at `indent` spaces: on one line when it fits in ONE_LINE_WIDTH and
 * reads back as written, otherwise folded (`>-`) over lines of YAML_WIDTH. Refuses a text YAML would not give back.
 */
export function yamlDescription(text: string, indent: number): string[] {
  if (text !== text.replace(/\s+/g, ' ').trim() || text === '')
    throw new Error(`a description is one line of text without runs of spaces: "${text}"`)
  const oneLine = `description: ${text}`
  if (indent + oneLine.length <= ONE_LINE_WIDTH && readsBack([oneLine], text)) return [oneLine]
  const folded = ['description: >-', ...wrap(text, YAML_WIDTH - indent - 2).map((line) => `  ${line}`)]
  if (!readsBack(folded, text)) throw new Error(`a description YAML cannot fold as written: "${text}"`)
  return folded
}

/**
 * How the `resources` input names a kind: an account-wide one says it is swept once per run, and
 * whether over the swept regions (its items live in regions: images) or whatever regions says (IAM).
 */
function kindInResources(kind: KindModule): string {
  if (!isAccountLeftoverKind(kind)) return kind.name
  const regional = kind.leftovers.open((hooks) => hooks.regionOf !== undefined)
  return regional
    ? `${kind.name} (swept once per run across the swept regions)`
    : `${kind.name} (Packer's temporary ${kind.nouns.plural}: global, swept once per run whatever regions says)`
}

/** The `resources` input's description, listing every kind. */
export function resourcesDescription(kinds: readonly KindModule[], indent: number): string {
  const text =
    'Which kinds of Packer leftovers to sweep, separated by commas, spaces or newlines: ' +
    `${kinds.map(kindInResources).join(', ')}, or all. An unknown name is refused, also next to all.`
  return yamlDescription(text, indent).join('\n')
}

/** Every kind's outputs, in the registry's order, with their descriptions. */
export function kindOutputs(kinds: readonly KindModule[], indent: number): string {
  return kinds
    .flatMap((kind) =>
      kind.outputs.flatMap((output) => {
        if (!output.description)
          throw new Error(`the output ${output.name} of ${kind.name} has no description: give it one in its outputs`)
        return [`${output.name}:`, ...yamlDescription(output.description, indent + 2).map((line) => `  ${line}`)]
      })
    )
    .join('\n')
}
