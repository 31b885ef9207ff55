-- One order per payment a registration waits for. Timers are columns here: `next_check_at`
-- (reconciliation and expiry, claimed with FOR UPDATE SKIP LOCKED by PaymentTimers).
CREATE TABLE orders (
    id uuid PRIMARY KEY,
    order_number text NOT NULL UNIQUE CHECK (length(order_number) BETWEEN 6 AND 32),
    registration_id text NOT NULL,
    conference_id text NOT NULL,
    organization_id text,
    payer jsonb NOT NULL,
    payer_account_id text NOT NULL,
    description text NOT NULL,
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    methods text[] NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'paid', 'paid_late', 'waived', 'cancelled', 'expired',
                                           'refunded', 'partially_refunded')),
    -- How it was paid (or waived) and the provider's ids of that payment.
    method text,
    provider_reference text,
    provider_transaction_id text,
    paid_amount_minor bigint,
    bank_reference text NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    paid_at timestamptz,
    receipt_number text,
    invoice jsonb,
    waiver_reason text,
    next_check_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, receipt_number)
);
-- At most one open order per registration.
CREATE UNIQUE INDEX orders_open_registration ON orders (registration_id) WHERE status = 'pending';
CREATE INDEX orders_registration ON orders (registration_id, created_at);
CREATE INDEX orders_due ON orders (next_check_at) WHERE status = 'pending';
CREATE INDEX orders_paid ON orders (organization_id, paid_at) WHERE receipt_number IS NOT NULL;

-- Receipt numbers, sequential per organization and year, allocated in the paying transaction.
CREATE TABLE receipt_sequences (
    organization_id text NOT NULL,
    year integer NOT NULL,
    last_value integer NOT NULL,
    PRIMARY KEY (organization_id, year)
);

-- What the participant pays with at a provider, per method. `creating` is written before the
-- provider is called (the intent), `ready` after; `closing` waits for the timer to close it at
-- the provider, `closed` once the provider said so.
CREATE TABLE checkouts (
    id uuid PRIMARY KEY,
    order_id uuid NOT NULL REFERENCES orders (id),
    method text NOT NULL,
    status text NOT NULL CHECK (status IN ('creating', 'ready', 'closing', 'closed')),
    qr_code text,
    redirect_url text,
    provider_reference text,
    provider_expires_at timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, method)
);
CREATE INDEX checkouts_closing ON checkouts (next_attempt_at) WHERE status = 'closing';

-- Provider callbacks handled, by the provider's notification id: a resend is acknowledged and
-- changes nothing. Kept 7 days (Stripe retries for 3).
CREATE TABLE provider_events (
    provider text NOT NULL,
    provider_event_id text NOT NULL,
    kind text NOT NULL,
    order_number text,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, provider_event_id)
);
CREATE INDEX provider_events_received ON provider_events (received_at);

-- Refunds: `refund_number` is registration's idempotency key and the provider's.
-- pending: to call (or call again at next_attempt_at); processing: accepted by the provider,
-- waiting for its callback (asked again at next_attempt_at); manual: bank transfer, staff pay it
-- back; none: nothing to refund (a waiver).
CREATE TABLE refunds (
    refund_number text PRIMARY KEY,
    order_id uuid NOT NULL REFERENCES orders (id),
    amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
    currency text NOT NULL,
    reason text NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'processing', 'succeeded', 'failed', 'manual', 'none')),
    provider_refund_id text,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    settled_at timestamptz
);
CREATE INDEX refunds_due ON refunds (next_attempt_at) WHERE status IN ('pending', 'processing');
CREATE INDEX refunds_order ON refunds (order_id);

-- Bank statement rows that completed an order: the same row imported again is recognised.
CREATE TABLE bank_receipts (
    fingerprint text PRIMARY KEY,
    order_id uuid NOT NULL REFERENCES orders (id),
    line_date text NOT NULL,
    amount_minor bigint NOT NULL,
    currency text NOT NULL,
    remark text NOT NULL,
    imported_by text NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now()
);
