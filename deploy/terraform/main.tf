# packer-sweeper for teams that use Terraform: the same role, trust policy, permissions and SNS topic
# as deploy/cloudformation.yml, chosen by the same settings. The permissions follow requiredPermissions()
# in src/report/required-permissions.ts. __tests__/repo/deploy.test.ts checks this file by text
# matching only: the IAM actions of its allowing statements, all modes together, equal the union of
# requiredPermissions() over all modes, and the OIDC provider is created or looked up as described
# below; which actions a given set of variables grants is not checked.
#
# Terraform generates the role's and the topic's names (name_prefix): use the outputs role_arn and
# topic_arn for the action's role-to-assume and sns-topic-arn. Set create_oidc_provider = false when
# the account already has GitHub's OIDC provider (it can hold only one).
#
#   module "packer_sweeper" {
#     source            = "./deploy/terraform"
#     github_repository = "my-org/infrastructure"
#   }

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

variable "github_repository" {
  description = "owner/name of the one repository whose workflows may assume the role."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "Use owner/name, without wildcards."
  }
}

variable "github_branch" {
  description = "Branch whose workflows may assume the role. Ignored when github_environment is set."
  type        = string
  default     = "main"
}

variable "github_environment" {
  description = "GitHub environment whose jobs may assume the role; empty = use github_branch."
  type        = string
  default     = ""
}

variable "audience" {
  description = "Audience of the GitHub OIDC token; the action's audience input must match."
  type        = string
  default     = "sts.amazonaws.com"
}

variable "create_oidc_provider" {
  description = "true creates GitHub's OIDC provider (token.actions.githubusercontent.com); false looks up the one the account already has (an account holds only one). The provider has prevent_destroy, other roles may trust it: before setting this to false or destroying the module, `terraform state rm` it, which leaves it in the account."
  type        = bool
  default     = true
}

variable "existing_oidc_provider_arn" {
  description = "Deprecated: use create_oidc_provider = false. When set, it wins: no provider is created or looked up, and the role trusts this ARN of the account's token.actions.githubusercontent.com provider."
  type        = string
  default     = ""
  validation {
    condition     = var.existing_oidc_provider_arn == "" || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token\\.actions\\.githubusercontent\\.com$", var.existing_oidc_provider_arn))
    error_message = "existing_oidc_provider_arn is empty or the ARN of a token.actions.githubusercontent.com OIDC provider."
  }
}

variable "sweep_action" {
  description = "The most the action input may ask for: notify, stop or terminate."
  type        = string
  default     = "terminate"
  validation {
    condition     = contains(["notify", "stop", "terminate"], var.sweep_action)
    error_message = "sweep_action is one of notify, stop, terminate."
  }
}

variable "orphan_sweep" {
  description = "true to sweep key pairs, security groups, launch templates, images (with their snapshots) and volumes too (resources: all together with iam_sweep); false for instances only. With terminate: ec2:DeregisterImage and ec2:DeleteSnapshot (DeregisterImage with DeleteAssociatedSnapshots deletes each snapshot under DeleteSnapshot), ec2:DeleteVolume; the action deregisters images only with image-incomplete-tag, deletes volumes only with delete-inherited-volumes."
  type        = bool
  default     = true
}

variable "iam_sweep" {
  description = "true for resources: instance-profiles (part of all, like orphan_sweep's kinds): read IAM instance profiles and roles, delete packer-<uuid> ones with terminate. Also reads every enabled region (DescribeRegions, DescribeIamInstanceProfileAssociations) whatever regions says."
  type        = bool
  default     = true
}

variable "regions" {
  description = "Regions the sweep may touch; empty = all (regions: all, which also needs DescribeRegions)."
  type        = list(string)
  default     = []
}

variable "key_pair_name_pattern" {
  description = "Key pairs the sweep may delete, by name; match the action's key-name input."
  type        = string
  default     = "packer_*"
}

variable "require_managed_tag" {
  description = "true: stop/terminate only instances tagged with the key packer-sweeper:managed (Packer run_tags)."
  type        = bool
  default     = false
}

variable "estimate_cost" {
  description = "true for the action's estimate-cost input: allow pricing:GetProducts and ec2:DescribeSpotPriceHistory (both only read prices)."
  type        = bool
  default     = false
}

variable "enable_notifications" {
  description = "Create the SNS topic and allow sns:Publish on it (and only on it)."
  type        = bool
  default     = true
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  all       = length(var.regions) == 0
  subject = (var.github_environment != ""
    ? "repo:${var.github_repository}:environment:${var.github_environment}"
  : "repo:${var.github_repository}:ref:refs/heads/${var.github_branch}")
  create_oidc_provider  = var.create_oidc_provider && var.existing_oidc_provider_arn == ""
  look_up_oidc_provider = !var.create_oidc_provider && var.existing_oidc_provider_arn == ""
  # The same ARN whoever created the provider (IAM names it after its URL); referring to the resource
  # makes Terraform create the provider before the role.
  provider_arn = (var.existing_oidc_provider_arn != "" ? var.existing_oidc_provider_arn
    : local.create_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn
  : data.aws_iam_openid_connect_provider.github[0].arn)
  # The conditions of the instance statements: the regions, and the optional managed tag.
  region_condition = local.all ? [] : [{ test = "StringEquals", variable = "aws:RequestedRegion", values = var.regions }]
  instance_conditions = concat(local.region_condition, var.require_managed_tag ? [
    { test = "Null", variable = "aws:ResourceTag/packer-sweeper:managed", values = ["false"] }
  ] : [])
  delete_orphans = var.sweep_action == "terminate" && var.orphan_sweep
  delete_iam     = var.sweep_action == "terminate" && var.iam_sweep
  # Packer's temporary instance profile and role: both named packer-<uuid>, on path /.
  packer_roles    = "arn:${local.partition}:iam::${local.account}:role/packer-????????-????-????-????-????????????"
  packer_profiles = "arn:${local.partition}:iam::${local.account}:instance-profile/packer-????????-????-????-????-????????????"
}

resource "aws_iam_openid_connect_provider" "github" {
  count           = local.create_oidc_provider ? 1 : 0
  url             = "https://token.actions.githubusercontent.com"
  client_id_list  = [var.audience]
  thumbprint_list = ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"]
  # The account's only GitHub provider, which other roles may trust: a plan that would destroy it fails.
  lifecycle {
    prevent_destroy = true
  }
}

# Fails the plan when the account has no GitHub provider: set create_oidc_provider = true then.
data "aws_iam_openid_connect_provider" "github" {
  count = local.look_up_oidc_provider ? 1 : 0
  url   = "https://token.actions.githubusercontent.com"
}

data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "GitHubActionsOneRepository"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = [var.audience]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = [local.subject]
    }
  }
}

data "aws_iam_policy_document" "sweeper" {
  statement {
    sid       = "FindPackerInstances"
    effect    = "Allow"
    actions   = ["ec2:DescribeInstances"]
    resources = ["*"]
    dynamic "condition" {
      for_each = local.region_condition
      content {
        test     = condition.value.test
        variable = condition.value.variable
        values   = condition.value.values
      }
    }
  }

  # regions: all lists the enabled regions; so does the instance-profile sweep, whatever regions says.
  dynamic "statement" {
    for_each = local.all || var.iam_sweep ? [1] : []
    content {
      sid       = "ListEnabledRegions"
      effect    = "Allow"
      actions   = ["ec2:DescribeRegions"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = var.orphan_sweep ? [1] : []
    content {
      sid       = "FindPackerLeftovers"
      effect    = "Allow"
      resources = ["*"]
      # leftover-reads:start (generated from src/report/required-permissions.ts by npm run docs)
      actions = ["ec2:DescribeImageAttribute", "ec2:DescribeImages", "ec2:DescribeKeyPairs", "ec2:DescribeLaunchTemplates", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSnapshots", "ec2:DescribeVolumes"]
      # leftover-reads:end
      dynamic "condition" {
        for_each = local.region_condition
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }

  dynamic "statement" {
    for_each = var.sweep_action == "stop" ? ["ec2:StopInstances"] : var.sweep_action == "terminate" ? ["ec2:TerminateInstances"] : []
    content {
      sid       = var.sweep_action == "stop" ? "StopStaleBuilders" : "TerminateStaleBuilders"
      effect    = "Allow"
      actions   = [statement.value]
      resources = ["arn:${local.partition}:ec2:*:${local.account}:instance/*"]
      dynamic "condition" {
        for_each = local.instance_conditions
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }

  dynamic "statement" {
    for_each = local.delete_orphans ? [1] : []
    content {
      sid       = "DeletePackerKeyPairs"
      effect    = "Allow"
      actions   = ["ec2:DeleteKeyPair"]
      resources = ["arn:${local.partition}:ec2:*:${local.account}:key-pair/${var.key_pair_name_pattern}"]
      dynamic "condition" {
        for_each = local.region_condition
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }

  dynamic "statement" {
    for_each = local.delete_orphans ? [1] : []
    content {
      sid     = "DeletePackerGroupsAndTemplates"
      effect  = "Allow"
      actions = ["ec2:DeleteLaunchTemplate", "ec2:DeleteSecurityGroup"]
      resources = [
        "arn:${local.partition}:ec2:*:${local.account}:launch-template/*",
        "arn:${local.partition}:ec2:*:${local.account}:security-group/*",
      ]
      dynamic "condition" {
        for_each = local.region_condition
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }

  # Image and snapshot ARNs carry no account (arn:PARTITION:ec2:REGION::image/ami-…): EC2 deregisters
  # only the account's own images and deletes only its own snapshots. DeregisterImage with
  # DeleteAssociatedSnapshots deletes each snapshot under ec2:DeleteSnapshot on the snapshot's ARN;
  # without it the image is deregistered and its snapshots stay, billed.
  dynamic "statement" {
    for_each = local.delete_orphans ? [1] : []
    content {
      sid     = "DeregisterInterruptedImages"
      effect  = "Allow"
      actions = ["ec2:DeleteSnapshot", "ec2:DeregisterImage"]
      resources = [
        "arn:${local.partition}:ec2:*::image/*",
        "arn:${local.partition}:ec2:*::snapshot/*",
      ]
      dynamic "condition" {
        for_each = local.region_condition
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }

  # Volume ARNs carry IDs: scoped to this account.
  dynamic "statement" {
    for_each = local.delete_orphans ? [1] : []
    content {
      sid       = "DeleteInheritedVolumes"
      effect    = "Allow"
      actions   = ["ec2:DeleteVolume"]
      resources = ["arn:${local.partition}:ec2:*:${local.account}:volume/*"]
      dynamic "condition" {
        for_each = local.region_condition
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }

  # IAM is global: the instance-profile sweep lists profiles and roles once per run. List calls are
  # authorized on the path they list (PathPrefix /: arn:...:role/ and instance-profile/), not on the
  # names they return, so they cannot be limited to packer-*; they only read. Every other IAM call is
  # limited to names of Packer's exact shape, packer-<uuid> (so not this module's own packer-sweeper-*
  # role); RemoveRoleFromInstanceProfile is authorized on the profile and
  # on the role, so it names both. DescribeIamInstanceProfileAssociations asks every enabled region
  # which instances still use a profile: no region condition.
  dynamic "statement" {
    for_each = concat(var.iam_sweep ? [
      { sid = "ListInstanceProfiles", actions = ["iam:ListInstanceProfiles"], resources = ["arn:${local.partition}:iam::${local.account}:instance-profile/*"] },
      { sid = "ListRoles", actions = ["iam:ListRoles"], resources = ["arn:${local.partition}:iam::${local.account}:role/*"] },
      { sid = "ReadPackerInstanceProfiles", actions = ["iam:ListInstanceProfileTags"], resources = [local.packer_profiles] },
      { sid = "ReadPackerRoles", actions = ["iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:ListRoleTags"], resources = [local.packer_roles] },
      { sid = "FindInstancesUsingPackerProfiles", actions = ["ec2:DescribeIamInstanceProfileAssociations"], resources = ["*"] },
      ] : [], local.delete_iam ? [
      { sid = "RemovePackerRolesFromProfiles", actions = ["iam:RemoveRoleFromInstanceProfile"], resources = [local.packer_profiles, local.packer_roles] },
      { sid = "DeletePackerRoles", actions = ["iam:DeleteRole", "iam:DeleteRolePolicy"], resources = [local.packer_roles] },
      { sid = "DeletePackerInstanceProfiles", actions = ["iam:DeleteInstanceProfile"], resources = [local.packer_profiles] },
    ] : [])
    content {
      sid       = statement.value.sid
      effect    = "Allow"
      actions   = statement.value.actions
      resources = statement.value.resources
    }
  }

  # estimate-cost: spot prices from the swept regions; list prices from the Price List API, which
  # answers in us-east-1 whatever the swept regions are, so it has no region condition.
  dynamic "statement" {
    for_each = var.estimate_cost ? [1] : []
    content {
      sid       = "ReadSpotPrices"
      effect    = "Allow"
      actions   = ["ec2:DescribeSpotPriceHistory"]
      resources = ["*"]
      dynamic "condition" {
        for_each = local.region_condition
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }

  dynamic "statement" {
    for_each = var.estimate_cost ? [1] : []
    content {
      sid       = "ReadListPrices"
      effect    = "Allow"
      actions   = ["pricing:GetProducts"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = var.enable_notifications ? [1] : []
    content {
      sid       = "PublishToTheSweeperTopic"
      effect    = "Allow"
      actions   = ["sns:Publish"]
      resources = [aws_sns_topic.notifications[0].arn]
    }
  }

  # The exclusion tag wins in IAM too: nothing carrying packer-sweeper:keep can be changed.
  statement {
    sid       = "NeverTouchKeptResources"
    effect    = "Deny"
    resources = ["*"]
    # kept-ec2-changes:start (generated from src/report/required-permissions.ts by npm run docs)
    actions = ["ec2:DeleteKeyPair", "ec2:DeleteLaunchTemplate", "ec2:DeleteSecurityGroup", "ec2:DeleteSnapshot", "ec2:DeleteVolume", "ec2:DeregisterImage", "ec2:StopInstances", "ec2:TerminateInstances"]
    # kept-ec2-changes:end
    condition {
      test     = "Null"
      variable = "aws:ResourceTag/packer-sweeper:keep"
      values   = ["false"]
    }
  }

  # The same for IAM roles and instance profiles: aws:ResourceTag is the key IAM evaluates for both
  # (iam:ResourceTag covers users and roles only); RemoveRoleFromInstanceProfile is denied when either
  # the profile or the role carries the tag.
  statement {
    sid       = "NeverTouchKeptIamResources"
    effect    = "Deny"
    resources = ["*"]
    # kept-iam-changes:start (generated from src/report/required-permissions.ts by npm run docs)
    actions = ["iam:DeleteInstanceProfile", "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:RemoveRoleFromInstanceProfile"]
    # kept-iam-changes:end
    condition {
      test     = "Null"
      variable = "aws:ResourceTag/packer-sweeper:keep"
      values   = ["false"]
    }
  }
}

resource "aws_iam_role" "sweeper" {
  name_prefix          = "packer-sweeper-"
  description          = "Assumed by packer-sweeper in ${var.github_repository} through GitHub OIDC"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "sweeper" {
  name   = "packer-sweeper"
  role   = aws_iam_role.sweeper.id
  policy = data.aws_iam_policy_document.sweeper.json
}

resource "aws_sns_topic" "notifications" {
  count        = var.enable_notifications ? 1 : 0
  name_prefix  = "packer-sweeper-"
  display_name = "packer-sweeper"
}

output "role_arn" {
  description = "role-to-assume for the action"
  value       = aws_iam_role.sweeper.arn
}

output "topic_arn" {
  description = "sns-topic-arn for the action (null when notifications are off)"
  value       = var.enable_notifications ? aws_sns_topic.notifications[0].arn : null
}
