# Environments for schema.sql, read by sqlfirst (scripts/sync-schema, scripts/apply-schema-sandbox)
# and by the Atlas CLI.
#
# Credentials come from environment variables (on Windows, your user environment variables,
# read at run time). Never write them here or in a .env file. urlescape() keeps a user name
# or password with @ : / % # ? or spaces from breaking the URL.
#
# The Atlas CLI needs a dev database for SQL schema files: pass --dev-url
# docker://postgres/<major>/dev matching the server. sqlfirst makes its own shadow database.

variable "sandbox_database" {
  type    = string
  default = "livermore"
}

variable "production_database" {
  type    = string
  default = "livermore"
}

locals {
  # the schemas sqlfirst and Atlas manage; anything else in the database is left alone
  schemas = ["public", "audit"]

  local_url      = "postgres://${urlescape(getenv("DATABASE_LIVERMORE_USERNAME"))}:${urlescape(getenv("DATABASE_LIVERMORE_PASSWORD"))}@${getenv("DATABASE_HOST")}:${getenv("DATABASE_PORT")}/${getenv("LIVERMORE_DATABASE_NAME")}?sslmode=disable"
  # PG_SANDBOX_PORT and PG_PRODUCTION_PORT are optional: 5432 when not set
  sandbox_port    = getenv("PG_SANDBOX_PORT") != "" ? getenv("PG_SANDBOX_PORT") : "5432"
  production_port = getenv("PG_PRODUCTION_PORT") != "" ? getenv("PG_PRODUCTION_PORT") : "5432"

  # verify-full: the server must prove it is the host named, with a certificate from a CA
  # this machine trusts (Azure's are); for a private CA set PGSSLROOTCERT to its certificate file
  sandbox_url    = "postgres://${urlescape(getenv("PG_SANDBOX_USER"))}:${urlescape(getenv("PG_SANDBOX_PASSWORD"))}@${getenv("PG_SANDBOX_HOST")}:${local.sandbox_port}/${var.sandbox_database}?sslmode=verify-full"
  production_url = "postgres://${urlescape(getenv("PG_PRODUCTION_USER"))}:${urlescape(getenv("PG_PRODUCTION_PASSWORD"))}@${getenv("PG_PRODUCTION_HOST")}:${local.production_port}/${var.production_database}?sslmode=verify-full"
}

# The developer's database (scripts/sync-schema). With none of its variables set, sqlfirst uses
# its embedded PostgreSQL.
env "local" {
  src     = "file://schema.sql"
  url     = local.local_url
  schemas = local.schemas

  diff {
    skip {
      drop_schema = true
    }
  }
}

# Azure PostgreSQL sandbox (scripts/apply-schema-sandbox).
env "sandbox" {
  src               = "file://schema.sql"
  url               = local.sandbox_url
  schemas           = local.schemas
  lock_timeout      = "5s"
  statement_timeout = "5m"
  # sqlfirst: plans avoid long locks on existing tables (CREATE INDEX CONCURRENTLY, NOT VALID + VALIDATE)
  online            = true

  diff {
    skip {
      drop_schema = true
    }
  }
}

# Production: never drops a schema or a table.
env "production" {
  src               = "file://schema.sql"
  url               = local.production_url
  schemas           = local.schemas
  lock_timeout      = "5s"
  statement_timeout = "5m"
  # sqlfirst: online plans, and a rewrite or full scan of a table over 100,000 rows is refused
  # unless the hazard is accepted with --allow-hazard
  online                = true
  hazard_threshold_rows = 100000

  diff {
    skip {
      drop_schema = true
      drop_table  = true
    }
  }
}
