-- Files uploaded through the gateway (POST /v1/uploads). The bytes live in the blob store
-- (BLOB_DIR) under `blob_key`; registration answers refer to them by that key.
-- (0005, not 0004: 0004 is taken on another branch.)

CREATE TABLE uploads (
    id                  uuid PRIMARY KEY,
    -- The account that uploaded it: only it may read it back or put it in an answer.
    owner_account_id    text NOT NULL,
    -- `sha256-<hex>` of the stored bytes: of the ciphertext when `sensitive`, so the stored key
    -- says nothing about the document.
    blob_key            text NOT NULL,
    -- What the bytes are, sniffed from the bytes themselves (never the client's claim).
    content_type        text NOT NULL,
    -- Of the plaintext.
    size                bigint NOT NULL CHECK (size > 0),
    -- The sanitized name; for an identity document sealed (SecretBox, context
    -- `gateway.upload-name:<id>`), as a person's name may be in it.
    file_name           text NOT NULL,
    purpose             text NOT NULL CHECK (purpose IN ('document', 'identity_document')),
    -- Identity documents: the blob is AES-GCM sealed (context `gateway.upload:<id>`).
    sensitive           boolean NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX uploads_owner ON uploads (owner_account_id, created_at);
CREATE INDEX uploads_blob_key ON uploads (blob_key);
