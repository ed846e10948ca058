# The one tags map: the five standard tags, merged with extra tags that cannot replace them.

variables {
  project     = "shiprail"
  environment = "stage"
  cloud       = "aws"
  region      = "eu-central-1"
  owner       = "platform@example.com"
  cost_center = "cc-1234"
}

run "standard_tags" {
  command = plan

  assert {
    condition = output.tags == {
      project       = "shiprail"
      environment   = "stage"
      owner         = "platform@example.com"
      "managed-by"  = "terraform"
      "cost-center" = "cc-1234"
    }
    error_message = "standard tags: ${jsonencode(output.tags)}"
  }
}

run "extra_tags_are_merged" {
  command = plan

  variables {
    extra_tags = {
      team         = "payments"
      "data-class" = "internal"
      repository   = "example/workorders"
    }
  }

  assert {
    condition     = length(output.tags) == 8
    error_message = "expected 5 standard and 3 extra tags: ${jsonencode(output.tags)}"
  }

  assert {
    condition     = output.tags.team == "payments" && output.tags["data-class"] == "internal" && output.tags["managed-by"] == "terraform"
    error_message = "merged tags: ${jsonencode(output.tags)}"
  }
}

run "extra_tag_cannot_replace_a_standard_tag" {
  command = plan

  variables {
    extra_tags = { environment = "prod" }
  }

  expect_failures = [var.extra_tags]
}

run "standard_tag_names_are_reserved_whatever_their_case" {
  command = plan

  variables {
    extra_tags = { "Managed-By" = "hand" }
  }

  expect_failures = [var.extra_tags]
}

run "tag_key_with_characters_azure_refuses_is_refused" {
  command = plan

  variables {
    extra_tags = { "team/x" = "payments" }
  }

  expect_failures = [var.extra_tags]
}

run "cloud_reserved_tag_prefix_is_refused" {
  command = plan

  variables {
    extra_tags = { "aws:createdBy" = "me" }
  }

  expect_failures = [var.extra_tags]
}

run "empty_owner_is_refused" {
  command = plan

  variables {
    owner = ""
  }

  expect_failures = [var.owner]
}

run "cost_center_with_characters_a_tag_cannot_hold_is_refused" {
  command = plan

  variables {
    cost_center = "cc#1234"
  }

  expect_failures = [var.cost_center]
}
