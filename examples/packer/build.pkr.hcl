# The tagging half of examples/workflows/packer-build.yml: every builder this template starts carries
# a value unique to the GitHub Actions job that runs the build, so the job's last step can sweep
# exactly this job's leftovers with
#   tags: packer-sweeper-job=${{ github.run_id }}-${{ github.run_attempt }}-${{ github.job }}-${{ strategy.job-index }}
# The workflow passes the same value with: packer build -var "packer_sweeper_job=$PACKER_SWEEPER_JOB" packer/
# (github.run_id alone is not enough: every job of a run, every matrix job included, shares it, and
# one job's cleanup would terminate the builders of the others.)

packer {
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.3.0"
    }
  }
}

variable "packer_sweeper_job" {
  type        = string
  description = "Unique to the GitHub Actions job that builds the image: run_id-run_attempt-job-job_index."
  default     = "local"
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "spot_price" {
  type        = string
  description = "Empty for an on-demand builder; auto (or a maximum hourly price) builds on spot."
  default     = ""
}

locals {
  # run_tags go on the builder instance and, in packer-plugin-amazon, also on the temporary key pair
  # (packer_<uuid>) and security group (packer_<uuid>) it creates for the build.
  run_tags = {
    "packer-sweeper-job" = var.packer_sweeper_job
    # Optional: deploy/cloudformation.yml with RequireManagedTag=true only lets the sweeper stop or
    # terminate instances that carry this tag key.
    "packer-sweeper:managed" = "true"
  }
  timestamp = regex_replace(timestamp(), "[- TZ:]", "")
}

source "amazon-ebs" "base" {
  region        = var.region
  instance_type = "t3.micro"
  ssh_username  = "ubuntu"
  ami_name      = "example-base-${local.timestamp}"

  source_ami_filter {
    filters = {
      name                = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = ["099720109477"] # Canonical
    most_recent = true
  }

  # Leave ssh_keypair_name, temporary_key_pair_name, security_group_ids and security_group_filter
  # unset: Packer then creates the packer_<uuid> key pair and group that the sweep recognises.
  run_tags        = local.run_tags
  run_volume_tags = local.run_tags

  # A spot build also creates a packer-fleet-launch-template-*, and packer-plugin-amazon tags that
  # launch template with spot_tags, not run_tags: without them it lacks packer-sweeper-job, and the
  # post-build sweep (tags: packer-sweeper-job=...) does not match it. Packer rejects spot_tags on an
  # on-demand build, hence null (unset) when spot_price is empty.
  spot_price = var.spot_price
  spot_tags  = var.spot_price != "" ? local.run_tags : null

  # Tags of the resulting AMI, not of the builder.
  tags = {
    "packer-sweeper-job" = var.packer_sweeper_job
  }
}

build {
  sources = ["source.amazon-ebs.base"]

  provisioner "shell" {
    inline = ["cloud-init status --wait", "sudo apt-get update"]
  }
}
