import { DeleteLaunchTemplateCommand, paginateDescribeLaunchTemplates } from '@aws-sdk/client-ec2'
import { collect } from '../aws/batches.js'
import { describing } from '../aws/describe-error.js'
import type { InstanceUseQuery } from '../engine/instance-usage.js'
import { candidatesOf, regionalLeftover, tagFilters } from '../engine/regional-kind.js'
import { matchesAnyPattern } from '../engine/rules.js'
import { PERMISSION } from '../model/permissions.js'
import { leftoverPermissions, selectedIdsOutput } from '../engine/kind.js'

/** The launch template a Packer spot build creates for its CreateFleet call. */
export const LAUNCH_TEMPLATE_NAME_PATTERN = 'packer-fleet-launch-template-*'

/** The tag EC2 puts on every instance launched from a launch template (CreateFleet included). */
export const LAUNCH_TEMPLATE_ID_TAG = 'aws:ec2launchtemplate:id'

/** Instances know the template they were launched from by its ID, in that tag: an instant fleet keeps no state of its own. */
export const BY_LAUNCH_TEMPLATE: InstanceUseQuery = {
  candidateValue: (candidate) => candidate.id,
  usedValue: (instance) => instance.Tags?.find((tag) => tag.Key === LAUNCH_TEMPLATE_ID_TAG)?.Value
}

/**
 * Spot builds' launch templates. The `tags` input applies to them as to every other kind, so a
 * run scoped to one workflow run's tags only touches templates carrying those tags too.
 * Use is read from the `aws:ec2launchtemplate:id` tag EC2 puts on the fleet's instances: an
 * instant fleet keeps no state of its own once its instances are launched.
 */
export const launchTemplates = regionalLeftover({
  name: 'launch-templates',
  nouns: { singular: 'launch template', plural: 'launch templates', title: 'Launch templates' },
  description:
    'Spot builds’ launch templates (`packer-fleet-launch-template-*`) that no live instance was launched from.',
  outputs: [
    {
      ...selectedIdsOutput('launch-templates'),
      description:
        'JSON array of the IDs of the orphaned launch templates found (with their outcome in report); one still in use by something this run does not terminate is only in report, as skipped.'
    }
  ],
  permissions: leftoverPermissions({
    read: [PERMISSION.describeLaunchTemplates, PERMISSION.describeInstances],
    remove: [PERMISSION.deleteLaunchTemplate]
  }),
  // DeleteLaunchTemplate does not refuse a template in use: its use is looked up again right before deleting.
  inUseCodes: [],
  nameHeader: 'Name',
  sweeper: {
    async discover(client, inputs, abortSignal) {
      const filters = [{ Name: 'launch-template-name', Values: [LAUNCH_TEMPLATE_NAME_PATTERN] }, ...tagFilters(inputs)]
      const templates = await describing(PERMISSION.describeLaunchTemplates, () =>
        collect(
          paginateDescribeLaunchTemplates({ client }, { Filters: filters, MaxResults: 200 }, { abortSignal }),
          (page) => page.LaunchTemplates
        )
      )
      const listed = templates.map((template) => ({
        id: template.LaunchTemplateId,
        name: template.LaunchTemplateName,
        tags: template.Tags,
        createTime: template.CreateTime
      }))
      return candidatesOf('launch-templates', listed, inputs, (name) =>
        matchesAnyPattern(name, [LAUNCH_TEMPLATE_NAME_PATTERN])
      )
    },

    usage: { instanceUse: BY_LAUNCH_TEMPLATE },

    async remove(client, candidate, dryRun, abortSignal) {
      await client.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: candidate.id, DryRun: dryRun }), {
        abortSignal
      })
    },

    removePermission: PERMISSION.deleteLaunchTemplate,
    alreadyGoneCodes: ['InvalidLaunchTemplateId.NotFound', 'InvalidLaunchTemplateName.NotFoundException']
  }
})
