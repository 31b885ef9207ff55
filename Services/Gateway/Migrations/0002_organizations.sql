-- Organizations, their departments, who belongs to them and who holds which role.

CREATE TABLE organizations (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  uuid
);

CREATE TABLE departments (
    id              uuid PRIMARY KEY,
    organization_id text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name            text NOT NULL,
    parent_id       uuid REFERENCES departments (id),
    -- Approves role requests of the department's members.
    head_account_id uuid REFERENCES accounts (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, name)
);

-- Membership makes an account an ordinary user of the organization.
CREATE TABLE memberships (
    organization_id text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    account_id      uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    department_id   uuid REFERENCES departments (id) ON DELETE SET NULL,
    joined_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, account_id)
);
CREATE INDEX memberships_account ON memberships (account_id, joined_at);

-- Roles above ordinary user. organization_id NULL: a system-wide grant (system_admin).
CREATE TABLE role_grants (
    id              uuid PRIMARY KEY,
    account_id      uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    organization_id text REFERENCES organizations (id) ON DELETE CASCADE,
    department_id   uuid REFERENCES departments (id) ON DELETE CASCADE,
    role            text NOT NULL CHECK (role IN ('meeting_admin', 'org_admin', 'system_admin')),
    granted_by      uuid,
    granted_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'system_admin') = (organization_id IS NULL))
);
CREATE UNIQUE INDEX role_grants_unique ON role_grants
    (account_id, coalesce(organization_id, ''), coalesce(department_id, '00000000-0000-0000-0000-000000000000'::uuid), role);

-- An account asks to join (role 'user') or for a role; the head of the department, an
-- administrator of the organization or a system admin decides.
CREATE TABLE role_requests (
    id              uuid PRIMARY KEY,
    account_id      uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    organization_id text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    department_id   uuid REFERENCES departments (id) ON DELETE CASCADE,
    role            text NOT NULL CHECK (role IN ('user', 'meeting_admin', 'org_admin')),
    reason          text NOT NULL DEFAULT '',
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by      uuid,
    decided_at      timestamptz,
    comment         text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
-- One open request per account, organization, department and role.
CREATE UNIQUE INDEX role_requests_open ON role_requests
    (account_id, organization_id, coalesce(department_id, '00000000-0000-0000-0000-000000000000'::uuid), role)
    WHERE status = 'pending';
