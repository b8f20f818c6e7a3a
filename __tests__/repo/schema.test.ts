/**
 * The schema files of schema/ as published: valid draft 2020-12 that Ajv compiles in strict mode,
 * each named by its document and major version, readable (a title, and a description on every
 * property and part), closed (no object takes keys the schema does not name), linked from the
 * README, and applied to every end-to-end run.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from '@jest/globals'
import {
  NOTIFICATION_SCHEMA,
  readSchemas,
  REPORT_SCHEMA,
  SCHEMA_BASE_URL,
  schemaAjv,
  schemaAt,
  type SchemaNode
} from '../schemas.js'

const SCHEMAS = readSchemas()
const FILES = [...SCHEMAS.keys()]

/** Every object in a schema file with its JSON pointer, the file's root included. */
function nodesOf(file: string): Array<{ pointer: string; node: SchemaNode }> {
  const found: Array<{ pointer: string; node: SchemaNode }> = []
  const visit = (value: unknown, pointer: string) => {
    if (Array.isArray(value)) value.forEach((item, index) => visit(item, `${pointer}/${index}`))
    else if (value && typeof value === 'object') {
      found.push({ pointer, node: value as SchemaNode })
      for (const [key, child] of Object.entries(value)) visit(child, `${pointer}/${key}`)
    }
  }
  visit(SCHEMAS.get(file), '')
  return found
}

/** Closed: takes no keys but the ones it names, itself or through the schema it refers to. */
function isClosed(file: string, node: SchemaNode): boolean {
  if (node.additionalProperties === false || node.unevaluatedProperties === false || node.propertyNames !== undefined)
    return true
  if (typeof node.$ref !== 'string') return false
  const referred = schemaAt(SCHEMAS, file, node.$ref)
  return isClosed(referred.file, referred.node)
}

describe('the schema files', () => {
  it('are the report (version 1) and the SNS notification (version 2)', () => {
    expect(FILES.sort()).toEqual([NOTIFICATION_SCHEMA, REPORT_SCHEMA].sort())
    expect(readdirSync(new URL('../../schema/', import.meta.url)).sort()).toEqual(FILES)
  })

  it.each(FILES)(
    '%s is draft 2020-12 with its published $id, a title and a description, and its version in its name',
    (file) => {
      const schema = SCHEMAS.get(file) as SchemaNode
      expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema')
      expect(schema.$id).toBe(`${SCHEMA_BASE_URL}${file}`)
      expect(schema.title).toEqual(expect.stringMatching(/\S/))
      expect(schema.description).toEqual(expect.stringMatching(/breaking change/))
      const version = Number(/\.v(\d+)\.schema\.json$/.exec(file)?.[1])
      expect((schema.properties as Record<string, SchemaNode>).version?.const).toBe(version)
    }
  )

  it('compile with Ajv in strict mode and are valid against the draft 2020-12 meta-schema', () => {
    const ajv = schemaAjv()
    for (const file of FILES) {
      expect(ajv.validateSchema(SCHEMAS.get(file) as SchemaNode)).toBe(true)
      expect(ajv.getSchema(`${SCHEMA_BASE_URL}${file}`)).toBeInstanceOf(Function)
    }
    // Strict mode is on: an unknown keyword is refused, not ignored.
    expect(() =>
      schemaAjv().compile({ type: 'object', properties: {}, additionalProperties: false, descripton: 'typo' })
    ).toThrow(/unknown keyword/)
  })

  it.each(FILES)('%s describes every property and every part in $defs', (file) => {
    const undescribed = nodesOf(file).flatMap(({ pointer, node }) =>
      (['properties', '$defs'] as const).flatMap((key) =>
        Object.entries((node[key] as Record<string, SchemaNode> | undefined) ?? {})
          .filter(([, child]) => typeof child.description !== 'string' || child.description.trim() === '')
          .map(([name]) => `${pointer}/${key}/${name}`)
      )
    )
    expect(undescribed).toEqual([])
  })

  it.each(FILES)(
    '%s closes every object: open ones are $defs used only by schemas that close them (unevaluatedProperties: false)',
    (file) => {
      const open = nodesOf(file).filter(({ node }) => node.type === 'object' && !isClosed(file, node))
      const openOutsideDefs = open
        .filter(({ pointer }) => !/^\/\$defs\/[^/]+$/.test(pointer))
        .map(({ pointer }) => pointer)
      expect(openOutsideDefs).toEqual([])
      const openDefs = new Set(open.map(({ pointer }) => `${file}#${pointer}`))
      const refsToOpen = FILES.flatMap((from) =>
        nodesOf(from).flatMap(({ pointer, node }) => {
          if (typeof node.$ref !== 'string') return []
          const target = node.$ref.startsWith('#') ? `${from}${node.$ref}` : node.$ref
          return openDefs.has(target)
            ? [{ at: `${from}#${pointer}`, closes: node.unevaluatedProperties === false }]
            : []
        })
      )
      expect(refsToOpen.filter((ref) => !ref.closes)).toEqual([])
    }
  )

  it('are linked from the README', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    for (const file of FILES) expect(readme).toContain(`](schema/${file})`)
  })
})

describe('the end-to-end suites', () => {
  it('validate every run against the schemas: each suite that runs the action imports the harness, which registers the check', () => {
    const dir = new URL('../e2e/', import.meta.url)
    const suites = readdirSync(dir).filter((file) => file.endsWith('.test.ts'))
    const unchecked = suites.filter((file) => {
      const text = readFileSync(new URL(file, dir), 'utf8')
      return text.includes('sandbox/run-action.js') && !text.includes("from './harness.js'")
    })
    expect(suites.length).toBeGreaterThan(5)
    expect(unchecked).toEqual([])
    expect(readFileSync(new URL('harness.ts', dir), 'utf8')).toContain('checkEveryRun(checkRunAgainstSchemas)')
  })
})
