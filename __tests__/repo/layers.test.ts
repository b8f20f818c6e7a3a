/**
 * The layers of src/ hold because `npm run lint` runs dependency-cruiser with .dependency-cruiser.cjs.
 * Here the same command and config run against src/ (no violation) and against a small tree that
 * breaks each rule once, so a rule that stopped firing (a typo in a path, type-only imports no
 * longer counted) fails this test rather than letting a wrong arrow through.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

import { ROOT } from '../../scripts/readme-tables.js'

const DEPCRUISE = join(ROOT, 'node_modules/.bin/depcruise')

function cruise(cwd: string): { status: number | null; output: string } {
  const result = spawnSync(DEPCRUISE, ['src', '--config', join(ROOT, '.dependency-cruiser.cjs')], {
    cwd,
    encoding: 'utf8'
  })
  return { status: result.status, output: `${result.stdout}${result.stderr}` }
}

describe('src/ as it is', () => {
  it('has no upward import and no cycle', () => {
    const { status, output } = cruise(ROOT)
    expect(output).toContain('no dependency violations found')
    expect(status).toBe(0)
  })
})

describe('a tree that breaks every rule once', () => {
  let tree: string
  let result: { status: number | null; output: string }
  /** Each file of the broken tree, and the rule its import breaks. */
  const files: Record<string, string> = {
    'src/kinds/names.ts': "import type { Inputs } from '../model/types.js'\nexport type Kind = Inputs['kind']\n",
    'src/model/types.ts':
      "import type { Client } from '../aws/clients.js'\nexport interface Inputs { kind: 'a'; client?: Client }\n",
    'src/aws/clients.ts': "import { sweep } from '../engine/sweep.js'\nexport type Client = typeof sweep\n",
    'src/engine/sweep.ts':
      "import { KINDS } from '../kinds/registry.js'\nimport { summary } from '../report/summary.js'\nexport const sweep = [KINDS, summary]\n",
    'src/report/summary.ts': "import { keyPairs } from '../kinds/key-pairs.js'\nexport const summary = keyPairs\n",
    'src/kinds/key-pairs.ts':
      "import { instances } from './instances.js'\nimport { run } from '../main.js'\nexport const keyPairs = [instances, run]\n",
    'src/kinds/instances.ts': 'export const instances = 1\n',
    'src/kinds/registry.ts': "import { keyPairs } from './key-pairs.js'\nexport const KINDS = [keyPairs]\n",
    'src/main.ts': "import { KINDS } from './kinds/registry.js'\nexport const run = KINDS\n",
    // A cycle through types alone: eslint's import/no-cycle would not see it.
    'src/model/a.ts': "import type { B } from './b.js'\nexport interface A { b?: B }\n",
    'src/model/b.ts': "import type { A } from './a.js'\nexport interface B { a?: A }\n"
  }

  beforeAll(() => {
    tree = mkdtempSync(join(tmpdir(), 'packer-sweeper-layers-'))
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(dirname(join(tree, file)), { recursive: true })
      writeFileSync(join(tree, file), text)
    }
    copyFileSync(join(ROOT, 'tsconfig.json'), join(tree, 'tsconfig.json'))
    result = cruise(tree)
  })
  afterAll(() => rmSync(tree, { recursive: true, force: true }))

  it.each([
    ['names-is-a-leaf', 'src/kinds/names.ts → src/model/types.ts'],
    ['model-is-the-bottom', 'src/model/types.ts → src/aws/clients.ts'],
    ['aws-below-the-engine', 'src/aws/clients.ts → src/engine/sweep.ts'],
    ['engine-knows-no-kind', 'src/engine/sweep.ts → src/kinds/registry.ts'],
    ['engine-knows-no-kind', 'src/engine/sweep.ts → src/report/summary.ts'],
    ['report-below-the-kinds', 'src/report/summary.ts → src/kinds/key-pairs.ts'],
    ['kinds-below-the-action', 'src/kinds/key-pairs.ts → src/kinds/instances.ts'],
    ['kinds-below-the-action', 'src/kinds/key-pairs.ts → src/main.ts'],
    ['registry-only-in-main', 'src/engine/sweep.ts → src/kinds/registry.ts'],
    ['nothing-imports-the-action', 'src/kinds/key-pairs.ts → src/main.ts'],
    ['no-circular', 'src/model/a.ts → ']
  ])('%s fires on %s', (rule, arrow) => {
    expect(result.status).not.toBe(0)
    expect(result.output).toContain(`error ${rule}: ${arrow}`)
  })
})
