/**
 * README.md's inputs and outputs tables are generated from action.yml (npm run docs); this fails
 * when one changed without the other, and checks the README's first instructions.
 */
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

import { inputsTable, outputsTable, readActionMetadata, renderReadme, ROOT, type ActionMetadata } from '../../scripts/readme-tables.js'

const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8')
const meta = readActionMetadata()

describe('README.md', () => {
  it('has the inputs and outputs tables action.yml generates (run npm run docs when this fails)', () => {
    expect(renderReadme(readme, meta)).toBe(readme)
  })

  it('lists every input with its default and every output', () => {
    for (const [name, input] of Object.entries(meta.inputs)) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\` |`))
      expect(row).toBeDefined()
      if (input.default) expect(row).toContain(`\`${input.default}\``)
    }
    for (const name of Object.keys(meta.outputs)) expect(readme).toContain(`| \`${name}\` |`)
  })

  it('opens with the two set-up commands, before any other code block', () => {
    const blocks = [...readme.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => (m[1] as string).trim())
    expect(blocks.slice(0, 2)).toEqual(['npm ci && npm run demo', 'npm ci && npm test'])
    expect(readme.indexOf('npm ci && npm run demo')).toBeLessThan(readme.indexOf('\n## '))
  })
})

describe('the table generator', () => {
  const sample: ActionMetadata = {
    inputs: {
      tags: { description: 'Key=Value lines,\nfor example a|b', default: '' },
      'max-age': { description: 'How long.', required: false, default: '2h' }
    },
    outputs: { count: { description: 'How many.' } }
  }

  it('keeps a row on one line, escapes pipes and shows empty defaults', () => {
    expect(inputsTable(sample).split('\n')).toEqual([
      '| Input | Default | Required | Description |',
      '| --- | --- | --- | --- |',
      '| `tags` | *(empty)* | no | Key=Value lines, for example a\\|b |',
      '| `max-age` | `2h` | no | How long. |'
    ])
    expect(outputsTable(sample)).toContain('| `count` | How many. |')
  })

  it('notices a stale table and refuses a README without markers', () => {
    const stale = readme.replace('| `max-age` |', '| `max-runtime` |')
    expect(stale).not.toBe(readme)
    expect(renderReadme(stale, meta)).toBe(readme)
    expect(() => renderReadme('# no markers', meta)).toThrow(/markers/)
  })
})
