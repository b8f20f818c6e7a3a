/**
 * The registry is the only list of kinds: everything that lists them derives from it, and no
 * module outside src/kinds/ names a kind.
 */
import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { parse } from 'yaml'
import { KIND_MODULES } from '../../../src/kinds/registry.js'
import { KIND_NAMES, REPORT_LISTS } from '../../../src/kinds/names.js'
import { isAccountLeftoverKind, isBuilderKind } from '../../../src/engine/kind.js'
import { PERMISSION } from '../../../src/model/permissions.js'
import { outputNames } from '../../../src/report/report.js'
import { ROOT } from '../../../scripts/readme-tables.js'

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(directory, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(directory, entry.name)]
        : []
  )
}

describe('the registry of kinds', () => {
  it('declares every kind under its own name, in KIND_NAMES order', () => {
    expect(KIND_MODULES.map((kind) => kind.name)).toEqual([...KIND_NAMES])
  })

  it('gives every kind its own report list, outputs and words', () => {
    const unique = <T>(values: T[]) => expect(new Set(values).size).toBe(values.length)
    unique(KIND_MODULES.map((kind) => REPORT_LISTS[kind.name]))
    unique(KIND_MODULES.flatMap((kind) => kind.outputs.map((output) => output.name)))
    unique(KIND_MODULES.map((kind) => kind.nouns.singular))
    unique(KIND_MODULES.map((kind) => kind.nouns.title))
  })

  it('has one builder kind, surveyed first, and the leftovers after it', () => {
    expect(KIND_MODULES.filter(isBuilderKind)).toHaveLength(1)
    expect(isBuilderKind(KIND_MODULES[0] as (typeof KIND_MODULES)[number])).toBe(true)
  })

  it('names only IAM actions of the catalogue, and changes leftovers only on terminate', () => {
    const known = new Set<string>(Object.values(PERMISSION))
    for (const kind of KIND_MODULES) {
      const { read, stop, terminate } = kind.permissions
      for (const permission of [...read, ...stop, ...terminate]) expect(known).toContain(permission)
      expect(read.length).toBeGreaterThan(0)
      expect(terminate.length).toBeGreaterThan(0)
      if (!isBuilderKind(kind)) expect(stop).toEqual([])
    }
  })

  it('says what a dry run cannot prove for the kinds without DryRun, and only for them', () => {
    for (const kind of KIND_MODULES) expect(kind.dryRunCaveat !== undefined).toBe(isAccountLeftoverKind(kind))
  })
})

describe('action.yml and the registry', () => {
  const yml = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as {
    inputs: Record<string, { description: string; default?: string }>
    outputs: Record<string, unknown>
  }

  it('declares every kind output, in registry order, before the run outputs', () => {
    expect(Object.keys(yml.outputs)).toEqual(outputNames(KIND_MODULES))
    expect(outputNames(KIND_MODULES).slice(0, -3)).toEqual(
      KIND_MODULES.flatMap((kind) => kind.outputs.map((output) => output.name))
    )
  })

  it("describes every kind output, as action.yml's generated block says it", () => {
    for (const kind of KIND_MODULES)
      for (const output of kind.outputs) expect(yml.outputs[output.name]).toEqual({ description: output.description })
  })

  it('names every kind in the resources input', () => {
    const description = yml.inputs.resources?.description ?? ''
    for (const name of KIND_NAMES) expect(description).toContain(name)
  })
})

describe('no list of kinds outside the registry', () => {
  const src = join(ROOT, 'src')
  const outside = sourceFiles(src).filter((file) => !relative(src, file).startsWith('kinds'))
  const names = [
    ...KIND_NAMES.map((name) => `'${name}'`),
    ...KIND_NAMES.map((name) => REPORT_LISTS[name]).filter((list) => !KIND_NAMES.some((name) => name === list))
  ]

  it.each(names)('src/ outside src/kinds/ never names %s', (name) => {
    const hits = outside.filter((file) =>
      new RegExp(`(^|[^\\w-])${name.replace(/[-']/g, (c) => `\\${c}`)}([^\\w-]|$)`).test(readFileSync(file, 'utf8'))
    )
    expect(hits.map((file) => relative(ROOT, file))).toEqual([])
  })
})
